// Both headers compile cleanly as C++17 under strict warnings, with g++ and clang++
// (`make header-check`), so that including them never breaks a C++ project's -Werror build.
#include "codex_app_server.hpp"
#include "codex_app_server.h"  // twice: the include guard

int main() { return codex_version() != nullptr && CODEX_APP_SERVER_VERSION_MAJOR >= 0 ? 0 : 1; }
