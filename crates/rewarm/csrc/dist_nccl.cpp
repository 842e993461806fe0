// c10d's NCCL process group for data-parallel runs on CUDA tensors. Built with REWARM_NCCL=1
// when the torch wheel has libtorch_cuda and the NCCL and CUDA runtime headers of its
// nvidia-* dependencies are installed beside it (build.rs looks); otherwise the factory says
// that this build has no NCCL, and CUDA tensors go through Gloo.

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <stdexcept>

#if REWARM_NCCL
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

// The NCCL backend of a group, or an exception when this build or machine has none.
c10::intrusive_ptr<c10d::Backend> rw_make_nccl(const c10::intrusive_ptr<c10d::Store>& store,
                                               int rank, int size,
                                               std::chrono::milliseconds timeout) {
#if REWARM_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
#else
    (void)store;
    (void)rank;
    (void)size;
    (void)timeout;
    throw std::runtime_error(
        "this rewarm was built without NCCL (no libtorch_cuda or no NCCL/CUDA headers beside "
        "the torch wheel); use [run] device = \"cpu\" or rebuild against the CUDA wheel");
#endif
}

extern "C" int rw_dist_has_nccl() { return REWARM_NCCL; }
