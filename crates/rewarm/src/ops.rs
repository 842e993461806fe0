//! Safe wrappers over `csrc/ops.cpp`: libtorch operators that tch does not expose because
//! they take lists of tensors (PyTorch's fused AdamW kernel, the foreach kernels, a backward
//! pass from given gradients), the CUDA allocator's peak, and libtorch's view of the CPU's
//! bf16 matrix units.

use anyhow::{anyhow, Result};
use std::ffi::{c_char, CStr};
use tch::Tensor;
use torch_sys::C_tensor;

extern "C" {
    fn rw_fused_adamw(
        params: *const *mut C_tensor,
        grads: *const *mut C_tensor,
        exp_avgs: *const *mut C_tensor,
        exp_avg_sqs: *const *mut C_tensor,
        step: *const C_tensor,
        n: usize,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        found_inf: *const C_tensor,
    ) -> *mut c_char;
    fn rw_clip_grad_norm(
        grads: *const *mut C_tensor,
        n: usize,
        max_norm: f64,
        total: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn rw_zero(ts: *const *mut C_tensor, n: usize) -> *mut c_char;
    fn rw_backward(
        roots: *const *mut C_tensor,
        grads: *const *mut C_tensor,
        n: usize,
    ) -> *mut c_char;
    fn rw_collect_grads(
        masters: *const *mut C_tensor,
        working: *const *mut C_tensor,
        n: usize,
    ) -> *mut c_char;
    fn rw_copy(dst: *const *mut C_tensor, src: *const *mut C_tensor, n: usize) -> *mut c_char;
    fn rw_cuda_peak_bytes(device: std::ffi::c_int) -> i64;
    fn rw_generator_new(seed: u64) -> *mut std::ffi::c_void;
    fn rw_generator_free(g: *mut std::ffi::c_void);
    fn rw_normal_(t: *mut C_tensor, g: *mut std::ffi::c_void) -> *mut c_char;
    fn rw_cpu_amx_bf16() -> std::ffi::c_int;
}

/// Whether this CPU multiplies bf16 matrices in AMX tiles that the OS lets this process use,
/// as libtorch sees it (cpuinfo, then its request for the tiles' state). Asked once.
pub fn cpu_amx_bf16() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: takes no arguments and catches every C++ exception.
    *ANSWER.get_or_init(|| unsafe { rw_cpu_amx_bf16() } == 1)
}

/// Takes ownership of a string the shims return (malloc'ed by strdup) and frees it.
pub(crate) fn take_message(s: *mut c_char) -> String {
    // SAFETY: the shims return NUL-terminated strings from strdup, owned by the caller.
    let msg = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
    unsafe { libc::free(s as *mut libc::c_void) };
    msg
}

/// Turns the shim's return value into a Result, freeing the message.
fn check(err: *mut c_char, what: &str) -> Result<()> {
    if err.is_null() {
        return Ok(());
    }
    Err(anyhow!("libtorch {what}: {}", take_message(err)))
}

/// The `at::Tensor*` behind each tensor, as the shims take them.
pub(crate) fn ptrs(ts: &[&Tensor]) -> Vec<*mut C_tensor> {
    ts.iter().map(|t| t.as_ptr() as *mut C_tensor).collect()
}

/// The hyper-parameters of one fused AdamW call.
pub struct AdamWStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
    pub eps: f64,
}

/// One in-place AdamW update of `params` (torch's `_fused_adamw_`). `step` is a 0-d f32 tensor
/// on the parameters' device holding the step count including this update; when `found_inf`
/// (0-d f32) holds 1 the kernel leaves every tensor untouched.
pub fn fused_adamw(
    params: &[&Tensor],
    grads: &[&Tensor],
    exp_avgs: &[&Tensor],
    exp_avg_sqs: &[&Tensor],
    step: &Tensor,
    h: &AdamWStep,
    found_inf: Option<&Tensor>,
) -> Result<()> {
    let n = params.len();
    assert!(grads.len() == n && exp_avgs.len() == n && exp_avg_sqs.len() == n);
    let (p, g, m, v) = (ptrs(params), ptrs(grads), ptrs(exp_avgs), ptrs(exp_avg_sqs));
    let inf = found_inf.map_or(std::ptr::null(), |t| t.as_ptr());
    // SAFETY: every pointer comes from a live tch Tensor borrowed for the call.
    let err = unsafe {
        rw_fused_adamw(
            p.as_ptr(),
            g.as_ptr(),
            m.as_ptr(),
            v.as_ptr(),
            step.as_ptr(),
            n,
            h.lr,
            h.beta1,
            h.beta2,
            h.weight_decay,
            h.eps,
            inf,
        )
    };
    check(err, "fused AdamW")
}

/// The global L2 norm of `grads` (0-d tensor, no host sync); scales them in place by
/// min(1, max_norm / (norm + 1e-6)) when `max_norm` > 0, as `clip_grad_norm_`.
pub fn clip_grad_norm(grads: &[&Tensor], max_norm: f64) -> Result<Tensor> {
    let g = ptrs(grads);
    let mut total: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: pointers from live tensors; on success `total` is a new at::Tensor we own.
    check(
        unsafe { rw_clip_grad_norm(g.as_ptr(), g.len(), max_norm, &mut total) },
        "clip_grad_norm",
    )?;
    Ok(unsafe { Tensor::from_ptr(total) })
}

/// Zeroes `ts` in place with one foreach call.
pub fn zero(ts: &[&Tensor]) -> Result<()> {
    let p = ptrs(ts);
    // SAFETY: pointers from live tensors borrowed for the call.
    check(unsafe { rw_zero(p.as_ptr(), p.len()) }, "zero")
}

/// One backward pass from `roots` with the gradients `grads` (`torch.autograd.backward`): a
/// leaf among the roots has its gradient added to `.grad` (through the hooks a data-parallel
/// reducer put there).
pub fn backward(roots: &[&Tensor], grads: &[&Tensor]) -> Result<()> {
    paired(rw_backward, roots, grads, "backward")
}

/// Adds each working copy's gradient into its master's gradient (made, in the master's dtype,
/// where it has none) and clears the working copy's gradient.
pub fn collect_grads(masters: &[&Tensor], working: &[&Tensor]) -> Result<()> {
    paired(rw_collect_grads, masters, working, "collecting gradients")
}

/// `dst[i] = src[i]` in place, converting dtypes, outside autograd (one foreach call).
pub fn copy(dst: &[&Tensor], src: &[&Tensor]) -> Result<()> {
    paired(rw_copy, dst, src, "copy")
}

/// A shim call over two lists of tensors of the same length, element by element.
fn paired(
    shim: unsafe extern "C" fn(*const *mut C_tensor, *const *mut C_tensor, usize) -> *mut c_char,
    a: &[&Tensor],
    b: &[&Tensor],
    what: &str,
) -> Result<()> {
    assert_eq!(a.len(), b.len());
    let (a, b) = (ptrs(a), ptrs(b));
    // SAFETY: pointers from live tensors borrowed for the call, both lists `a.len()` long.
    check(unsafe { shim(a.as_ptr(), b.as_ptr(), a.len()) }, what)
}

/// The most bytes the CUDA caching allocator has held for tensors on CUDA device `index`
/// since the start (`torch.cuda.max_memory_allocated`). `None` without CUDA.
pub fn cuda_peak_bytes(index: usize) -> Option<u64> {
    // SAFETY: a plain value; the shim catches every C++ exception.
    let b = unsafe { rw_cuda_peak_bytes(index as std::ffi::c_int) };
    u64::try_from(b).ok()
}

/// Held by every unit test that seeds and draws from libtorch's default generator (a process
/// global): tests run beside each other, and a draw between another test's seed and its
/// draws would change them.
#[cfg(test)]
pub(crate) fn default_generator_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A CPU random generator of its own (mt19937 seeded as `torch.manual_seed(seed)` seeds the
/// default one): draws do not depend on other threads' use of the default generator.
pub struct CpuGenerator(std::ptr::NonNull<std::ffi::c_void>);

impl CpuGenerator {
    pub fn new(seed: u64) -> Result<Self> {
        // SAFETY: plain value; returns null on failure.
        let g = unsafe { rw_generator_new(seed) };
        std::ptr::NonNull::new(g)
            .map(Self)
            .ok_or_else(|| anyhow!("libtorch: could not make a CPU generator"))
    }

    /// Fills the CPU tensor `t` in place with standard normal draws.
    pub fn normal_(&mut self, t: &Tensor) -> Result<()> {
        // SAFETY: `t` is live for the call; the generator is ours.
        check(
            unsafe { rw_normal_(t.as_ptr() as *mut C_tensor, self.0.as_ptr()) },
            "normal_",
        )
    }
}

impl Drop for CpuGenerator {
    fn drop(&mut self) {
        // SAFETY: made by rw_generator_new, freed once.
        unsafe { rw_generator_free(self.0.as_ptr()) }
    }
}
