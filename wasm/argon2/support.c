/*
 * encoding.c writes the decimal parameters of a PHC string with sprintf(tmp, "%lu", x), its one
 * use of stdio; wasi-libc's printf would pull in file descriptors and three WASI imports. The
 * build maps sprintf to this, so the module imports nothing.
 */
#include <stdarg.h>

int pictor_sprintf_lu(char *out, const char *format, ...) {
  va_list args;
  va_start(args, format);
  unsigned long x = va_arg(args, unsigned long);
  va_end(args);
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + x % 10);
    x /= 10;
  } while (x != 0);
  for (int i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  out[n] = '\0';
  return n;
}
