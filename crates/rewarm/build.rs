//! Builds the C++ shims (`csrc/ops.cpp`: fused AdamW and foreach kernels that tch does not
//! expose; `csrc/dist.cpp`: c10d's TCPStore and Gloo process group) against libtorch's headers, embeds the libtorch library folder as an rpath so
//! `rewarm` runs without LD_LIBRARY_PATH, and keeps libtorch_cuda linked: nothing in the binary
//! calls it directly, so the linker's --as-needed would drop it and CUDA would look absent on
//! GPU machines.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=csrc");
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        panic!("torch-sys did not report the libtorch folder (DEP_TCH_LIBTORCH_LIB); run scripts/setup-torch.sh");
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| PathBuf::from(&dir));
    let root = dir.parent().expect("libtorch lib folder has a parent");
    // NCCL for CUDA tensors, when the wheel's nvidia-* packages brought the headers.
    let site = root.parent().expect("torch folder has a parent");
    let nvidia: Vec<PathBuf> = [
        "nccl",
        "cu13",
        "cuda_runtime",
        "cuda_nvcc",
        "cublas",
        "cusparse",
    ]
    .iter()
    .map(|p| site.join("nvidia").join(p).join("include"))
    .filter(|p| p.exists())
    .collect();
    let nccl = dir.join("libtorch_cuda.so").exists()
        && nvidia.iter().any(|p| p.join("nccl.h").exists())
        && nvidia.iter().any(|p| p.join("cuda_runtime_api.h").exists());
    let mut build = cc::Build::new();
    for p in nvidia.iter().filter(|_| nccl) {
        build.include(p);
    }
    build
        .define("REWARM_NCCL", if nccl { "1" } else { "0" })
        .cpp(true)
        .pic(true)
        .std("c++17")
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .include("csrc/gloo-decl")
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .flag_if_supported("-Wno-unused-parameter")
        // libtorch's CUDA headers align to std::hardware_destructive_interference_size.
        .flag_if_supported("-Wno-interference-size")
        .file("csrc/ops.cpp")
        .file("csrc/dist.cpp")
        .file("csrc/dist_nccl.cpp")
        .compile("rewarm_ops");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    if dir.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
