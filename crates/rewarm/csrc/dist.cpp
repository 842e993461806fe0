// libtorch's c10d for data-parallel training: a TCPStore for rendezvous, a Gloo process
// group for the collectives (broadcast of the initial weights, bucketed all-reduce, barrier),
// and c10d's Reducer (what torch.nn.parallel.DistributedDataParallel drives), which all-reduces
// gradient buckets from autograd hooks while the backward pass is still running. Tensors cross as `at::Tensor*` (what tch's C_tensor points to). Each function
// returns nullptr on success or a malloc'ed error message that the caller frees.
//
// The torch wheel ships ProcessGroupGloo.hpp but not Gloo's own headers; gloo-decl/ declares
// the few Gloo types the header names (see gloo-decl/gloo/README.md).

#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include "shim.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// csrc/dist_nccl.cpp
c10::intrusive_ptr<c10d::Backend> rw_make_nccl(const c10::intrusive_ptr<c10d::Store>& store,
                                               int rank, int size,
                                               std::chrono::milliseconds timeout);

namespace {

using rw::guarded;

bool is_loopback(const std::string& host) {
    return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// Consecutive runs of tensors of one dtype and device, each up to `cap` bytes (a tensor larger
// than `cap` is a bucket of its own).
std::vector<std::vector<at::Tensor>> buckets(at::Tensor* const* ts, size_t n, int64_t cap) {
    std::vector<std::vector<at::Tensor>> out;
    int64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const at::Tensor& t = *ts[i];
        int64_t b = t.numel() * static_cast<int64_t>(t.element_size());
        bool fits = !out.empty() && out.back().front().scalar_type() == t.scalar_type() &&
                    out.back().front().device() == t.device() && bytes + b <= cap;
        if (!fits) {
            out.emplace_back();
            bytes = 0;
        }
        out.back().push_back(t);
        bytes += b;
    }
    return out;
}

at::Tensor flatten(const std::vector<at::Tensor>& ts) {
    if (ts.size() == 1 && ts[0].is_contiguous()) return ts[0].view({-1});
    std::vector<at::Tensor> flat;
    flat.reserve(ts.size());
    for (const auto& t : ts) flat.push_back(t.reshape({-1}));
    return at::cat(flat);
}

void unflatten(const at::Tensor& flat, std::vector<at::Tensor>& ts) {
    if (ts.size() == 1 && ts[0].is_contiguous()) return;  // reduced in place
    int64_t off = 0;
    for (auto& t : ts) {
        t.copy_(flat.narrow(0, off, t.numel()).view_as(t));
        off += t.numel();
    }
}

// Runs `collective` on each bucket of n tensors (all buckets in flight at once), then waits for
// each, divides it by `divisor` unless 1, and copies it back into the tensors.
template <typename C>
void bucketed(at::Tensor* const* ts, size_t n, int64_t cap, C&& collective, int divisor) {
    auto bs = buckets(ts, n, cap);
    std::vector<at::Tensor> flats;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& b : bs) {
        flats.push_back(flatten(b));
        std::vector<at::Tensor> one{flats.back()};
        works.push_back(collective(one));
    }
    for (size_t i = 0; i < bs.size(); i++) {
        works[i]->wait();
        if (divisor != 1) flats[i].div_(divisor);
        unflatten(flats[i], bs[i]);
    }
}

}  // namespace

struct RwGroup {
    c10::intrusive_ptr<c10d::Store> store;  // the group's, prefixed
    c10::intrusive_ptr<c10d::Store> aux;    // a second connection for heartbeats
    std::mutex aux_lock;
    c10::intrusive_ptr<c10d::Backend> pg;    // Gloo: CPU tensors, barriers
    c10::intrusive_ptr<c10d::Backend> nccl;  // CUDA tensors, when asked for
    // Both behind the dispatcher, which picks by the tensors' device (the Reducer uses it too).
    c10::intrusive_ptr<c10d::ProcessGroup> group;
    std::unique_ptr<c10d::Reducer> reducer;
    int rank = 0;
    int size = 1;
};

extern "C" {

// Joins the group: connects to (or, with is_server, hosts) the TCPStore at host:port, then
// builds the Gloo group (and with `nccl` the NCCL one for CUDA tensors) under `prefix`.
// Blocks until all `size` ranks have joined or `timeout_ms` has passed; the same timeout
// bounds every later collective.
char* rw_dist_init(const char* host, int port, int is_server, int rank, int size,
                   int64_t timeout_ms, const char* prefix, int nccl, RwGroup** out) {
    return guarded([&] {
        auto timeout = std::chrono::milliseconds(timeout_ms);
        c10d::TCPStoreOptions opts;
        opts.port = static_cast<std::uint16_t>(port);
        opts.isServer = is_server != 0;
        opts.numWorkers = static_cast<std::size_t>(size);
        opts.waitWorkers = false;
        opts.timeout = timeout;
        auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
        auto g = std::make_unique<RwGroup>();
        g->store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), tcp);
        g->aux = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix) + "/aux", tcp->clone());
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
        if (ifname && *ifname) {
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        } else if (is_loopback(host)) {
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        } else {
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, rank, size, options);
        g->group = c10::make_intrusive<c10d::ProcessGroup>(g->store, rank, size);
        g->group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, g->pg);
        if (nccl) {
            auto nccl_store = c10::make_intrusive<c10d::PrefixStore>("nccl", g->store);
            g->nccl = rw_make_nccl(nccl_store, rank, size, timeout);
            g->group->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL,
                                 g->nccl);
        } else {
            g->group->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO,
                                 g->pg);
        }
        g->group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
        g->rank = rank;
        g->size = size;
        *out = g.release();
    });
}

void rw_dist_free(RwGroup* g) {
    try {
        g->reducer.reset();
    } catch (...) {
        // ~Reducer may throw when a backward pass was cut short by a failed collective.
        (void)g->reducer.release();
    }
    delete g;
}

// Attaches a Reducer to n parameters: from now on, a backward pass run after
// rw_dist_reducer_prepare averages their gradients across the group, in buckets of up to
// bucket_bytes (the first 1 MiB, as DDP, so communication starts early) launched as soon as
// autograd has filled them. Backward passes without it only accumulate locally.
char* rw_dist_reducer_new(RwGroup* g, at::Tensor* const* params, size_t n, int64_t bucket_bytes) {
    return guarded([&] {
        std::vector<at::Tensor> ps;
        for (size_t i = 0; i < n; i++) ps.push_back(*params[i]);
        const size_t first = 1 << 20;
        std::vector<bool> sparse(n, false);
        auto [indices, limits] = c10d::compute_bucket_assignment_by_size(
            ps, {first, static_cast<size_t>(bucket_bytes)}, sparse);
        // Gradients become ready from the last layer to the first.
        std::reverse(indices.begin(), indices.end());
        std::reverse(limits.begin(), limits.end());
        std::vector<int64_t> caps(limits.begin(), limits.end());
        g->reducer = std::make_unique<c10d::Reducer>(
            ps, indices, g->group, sparse, bucket_bytes, /*find_unused_parameters=*/false,
            /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>{},
            static_cast<int64_t>(first), /*skip_all_reduce_unused_params=*/false,
            /*use_python_reducer=*/false, caps);
    });
}

// Before the forward pass whose backward should synchronise (the last micro-batch of a step):
// lets the Reducer re-order its buckets after the first step (a collective) and expect hooks.
char* rw_dist_reducer_prepare(RwGroup* g) {
    return guarded([&] {
        if (g->reducer->should_rebuild_buckets()) g->reducer->rebuild_buckets();
        g->reducer->prepare_for_forward();
        g->reducer->prepare_for_backward({});
    });
}

// Sums n tensors in place across the group (divided by the group's size when `average`), in
// buckets of up to bucket_bytes that are all in flight at once.
char* rw_dist_allreduce(RwGroup* g, at::Tensor* const* ts, size_t n, int average,
                        int64_t bucket_bytes) {
    return guarded([&] {
        bucketed(ts, n, bucket_bytes,
                 [&](std::vector<at::Tensor>& one) {
                     return g->group->allreduce(one, c10d::AllreduceOptions{});
                 },
                 average ? g->size : 1);
    });
}

// Copies rank `root`'s values of n tensors into every rank's, in buckets.
char* rw_dist_broadcast(RwGroup* g, at::Tensor* const* ts, size_t n, int root,
                        int64_t bucket_bytes) {
    return guarded([&] {
        c10d::BroadcastOptions o;
        o.rootRank = root;
        bucketed(ts, n, bucket_bytes,
                 [&](std::vector<at::Tensor>& one) { return g->group->broadcast(one, o); }, 1);
    });
}

char* rw_dist_barrier(RwGroup* g) {
    return guarded([&] { g->pg->barrier(c10d::BarrierOptions{})->wait(); });
}

// Sets `key` in the group's second store connection (thread-safe; heartbeats use it).
char* rw_dist_store_set(RwGroup* g, const char* key, const char* value) {
    return guarded([&] {
        std::lock_guard<std::mutex> lock(g->aux_lock);
        std::string v(value);
        g->aux->set(key, std::vector<uint8_t>(v.begin(), v.end()));
    });
}

// Reads `key` from the second connection into *value (malloc'ed, the caller frees it), or sets
// *value to nullptr when the key does not exist.
char* rw_dist_store_get(RwGroup* g, const char* key, char** value) {
    return guarded([&] {
        std::lock_guard<std::mutex> lock(g->aux_lock);
        *value = nullptr;
        if (!g->aux->check({key})) return;
        auto v = g->aux->get(key);
        std::string s(v.begin(), v.end());
        *value = strdup(s.c_str());
    });
}

}  // extern "C"
