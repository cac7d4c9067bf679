// The worker process's loop (see worker.cpp).
#pragma once

#include <string>

namespace softcheck::sandbox {

// Loads `plugin`, sends its table (or the reason it did not load), then
// serves calls until the request pipe closes. Returns the exit status.
int serve(const std::string &plugin);

} // namespace softcheck::sandbox
