//! Builds the C++ shim (`csrc/ops.cpp`: fused AdamW and foreach kernels that tch does not
//! expose) against libtorch's headers, embeds the libtorch library folder as an rpath so
//! `rewarm` runs without LD_LIBRARY_PATH, and keeps libtorch_cuda linked: nothing in the binary
//! calls it directly, so the linker's --as-needed would drop it and CUDA would look absent on
//! GPU machines.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=csrc/ops.cpp");
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!("torch-sys did not report the libtorch folder (DEP_TCH_LIBTORCH_LIB); run scripts/setup-torch.sh");
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| PathBuf::from(&dir));
    let root = dir.parent().expect("libtorch lib folder has a parent");
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .std("c++17")
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .flag_if_supported("-Wno-unused-parameter")
        .file("csrc/ops.cpp")
        .compile("rewarm_ops");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    if dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
