// Shared by the C++ shims: how a C++ exception crosses into Rust.
#pragma once

#include <c10/util/Exception.h>

#include <cstring>
#include <exception>

namespace rw {

// Runs f; returns nullptr on success or a malloc'ed message (freed by the Rust caller).
template <typename F>
char* guarded(F&& f) {
    try {
        f();
        return nullptr;
    } catch (const c10::Error& e) {
        return strdup(e.what_without_backtrace());
    } catch (const std::exception& e) {
        return strdup(e.what());
    } catch (...) {
        return strdup("unknown C++ exception");
    }
}

}  // namespace rw
