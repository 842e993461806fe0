// libtorch operators that tch does not expose (they take or return lists of tensors):
// PyTorch's fused AdamW and the foreach kernels behind clip_grad_norm_ and zero_grad; a
// backward pass from given gradients; moving gradients and weights between bf16 working
// copies and their f32 masters; the CUDA caching allocator's peak; and libtorch's view of the
// CPU's bf16 matrix units.
// Tensors cross as `at::Tensor*` (what tch's C_tensor points to). Each function returns
// nullptr on success or a malloc'ed error message that the caller frees.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/cpu/Utils.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include "shim.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <vector>

namespace {

std::vector<at::Tensor> gather(at::Tensor* const* ts, size_t n) {
    std::vector<at::Tensor> v;
    v.reserve(n);
    for (size_t i = 0; i < n; i++) v.push_back(*ts[i]);
    return v;
}

using rw::guarded;

}  // namespace

extern "C" {

// One AdamW update of n tensors (torch.optim.AdamW(fused=True)'s kernel). `step` is a 0-d f32
// tensor holding the step count after this update (shared by all n tensors); `found_inf`
// (nullable, 0-d f32) skips the whole update on device when it holds 1.
char* rw_fused_adamw(at::Tensor* const* params, at::Tensor* const* grads, at::Tensor* const* exp_avgs,
                     at::Tensor* const* exp_avg_sqs, const at::Tensor* step, size_t n, double lr,
                     double beta1, double beta2, double weight_decay, double eps,
                     const at::Tensor* found_inf) {
    return guarded([&] {
        if (n == 0) return;
        std::vector<at::Tensor> steps(n, *step);
        std::optional<at::Tensor> inf;
        if (found_inf) inf = *found_inf;
        at::_fused_adamw_(gather(params, n), gather(grads, n), gather(exp_avgs, n),
                          gather(exp_avg_sqs, n), {}, steps, lr, beta1, beta2, weight_decay, eps,
                          /*amsgrad=*/false, /*maximize=*/false, std::nullopt, inf);
    });
}

// The global L2 norm of n gradients, returned in *total (a new tensor the caller owns); when
// max_norm > 0 the gradients are scaled by min(1, max_norm / (norm + 1e-6)), as
// torch.nn.utils.clip_grad_norm_ does (foreach kernels, no host sync).
char* rw_clip_grad_norm(at::Tensor* const* grads, size_t n, double max_norm, at::Tensor** total) {
    return guarded([&] {
        if (n == 0) {
            *total = new at::Tensor(at::zeros({}, at::kFloat));
            return;
        }
        auto g = gather(grads, n);
        auto norms = at::_foreach_norm(g, 2);
        auto t = at::linalg_vector_norm(at::stack(norms), 2);
        if (max_norm > 0) {
            auto coef = at::clamp_max(max_norm / (t + 1e-6), 1.0);
            at::_foreach_mul_(g, coef);
        }
        *total = new at::Tensor(std::move(t));
    });
}

// Sets n tensors to zero in place.
char* rw_zero(at::Tensor* const* ts, size_t n) {
    return guarded([&] {
        if (n > 0) at::_foreach_zero_(gather(ts, n));
    });
}

// A CPU random generator of its own (mt19937, as torch.manual_seed(seed) seeds the default one),
// so that a model's initialisation does not depend on what other threads draw; nullptr on
// failure. Freed by rw_generator_free.
void* rw_generator_new(uint64_t seed) {
    try {
        return new at::Generator(at::detail::createCPUGenerator(seed));
    } catch (...) {
        return nullptr;
    }
}

void rw_generator_free(void* g) { delete static_cast<at::Generator*>(g); }

// Fills a CPU tensor in place with standard normal draws from generator g.
char* rw_normal_(at::Tensor* t, void* g) {
    return guarded([&] {
        c10::NoGradGuard no_grad;
        t->normal_(0.0, 1.0, *static_cast<at::Generator*>(g));
    });
}

// One backward pass from n roots with the given gradients (torch.autograd.backward(roots,
// grads)): a leaf among the roots has its gradient added to .grad, through its hooks.
char* rw_backward(at::Tensor* const* roots, at::Tensor* const* grads, size_t n) {
    return guarded([&] {
        if (n > 0) torch::autograd::backward(gather(roots, n), gather(grads, n));
    });
}

// Adds each working copy's gradient into its master's (creating the master's gradient, in the
// master's dtype, when it has none) and clears the working copy's, so the next backward pass
// hands its gradient over without an addition.
char* rw_collect_grads(at::Tensor* const* masters, at::Tensor* const* working, size_t n) {
    return guarded([&] {
        c10::NoGradGuard no_grad;
        std::vector<at::Tensor> to, from;
        for (size_t i = 0; i < n; i++) {
            at::Tensor& wg = working[i]->mutable_grad();
            if (!wg.defined()) continue;
            at::Tensor& mg = masters[i]->mutable_grad();
            if (!mg.defined()) {
                mg = wg.to(masters[i]->scalar_type(), /*non_blocking=*/false, /*copy=*/true);
            } else {
                to.push_back(mg);
                from.push_back(wg);
            }
        }
        if (!to.empty()) at::_foreach_add_(to, from);
        for (size_t i = 0; i < n; i++) working[i]->mutable_grad().reset();
    });
}

// dst[i] = src[i] for n pairs, converting dtypes (one foreach call, outside autograd).
char* rw_copy(at::Tensor* const* dst, at::Tensor* const* src, size_t n) {
    return guarded([&] {
        c10::NoGradGuard no_grad;
        if (n > 0) at::_foreach_copy_(gather(dst, n), gather(src, n), /*non_blocking=*/false);
    });
}

// The most bytes the CUDA caching allocator has held for tensors on `device` since the start
// (torch.cuda.max_memory_allocated); -1 when CUDA is not available.
int64_t rw_cuda_peak_bytes(int device) {
    try {
        if (!at::hasCUDA()) return -1;
        auto* alloc = c10::getDeviceAllocator(c10::DeviceType::CUDA);
        return alloc->getDeviceStats(static_cast<c10::DeviceIndex>(device)).allocated_bytes[0].peak;
    } catch (...) {
        return -1;
    }
}

// 1 when this CPU multiplies bf16 matrices in AMX tiles and the OS lets this process use
// them (libtorch's own cpuinfo check, then its request for the tiles' state), else 0.
int rw_cpu_amx_bf16() {
    try {
        auto caps = at::cpu::get_cpu_capabilities();
        auto it = caps.find("amx_bf16");
        bool has = it != caps.end() && it->second.isBool() && it->second.toBool();
        return has && at::cpu::init_amx() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

}  // extern "C"
