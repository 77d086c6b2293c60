/* The C header compiles cleanly as C99 and C11 under strict warnings, with gcc and clang
 * (`make header-check`). */
#include "codex_app_server.h"
#include "codex_app_server.h" /* twice: the include guard */

int main(void) { return codex_version() != NULL && CODEX_APP_SERVER_VERSION_MAJOR >= 0 ? 0 : 1; }
