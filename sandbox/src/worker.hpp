// The worker process's loop (see worker.cpp).
#pragma once

#include "common.hpp"

#include <string>

namespace softcheck::sandbox {

// Loads `plugin`, sends its table (or the reason it did not load) with what
// the worker's restrictions came to, then serves calls until the request
// pipe closes. Returns the exit status.
int serve(const std::string &plugin, const Restrictions &restrictions);

} // namespace softcheck::sandbox
