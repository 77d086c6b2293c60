/* Test-only: wine 8 has no ProcessPrng in bcryptprimitives.dll, which Rust's standard library
 * imports on Windows, so every Rust-built program (this library's tests and DLL, codex.exe)
 * fails to load under it. This DLL, named bcryptprimitives.dll and placed beside the
 * executables, supplies the function from RtlGenRandom. Real Windows 10+ has it; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, advapi32 */

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
