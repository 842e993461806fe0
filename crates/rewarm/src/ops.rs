//! Safe wrappers over `csrc/ops.cpp`: libtorch operators that tch does not expose because
//! they take lists of tensors (PyTorch's fused AdamW kernel and the foreach kernels), and
//! libtorch's view of the CPU's bf16 matrix units.

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
