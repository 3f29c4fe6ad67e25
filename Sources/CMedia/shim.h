// Image, animation and compression libraries from Debian: libpng (PNG through its simplified API), libjpeg-turbo's
// TurboJPEG API (JPEG), giflib (GIF), zlib (gzip, CRC-32).
#include <png.h>
#include <turbojpeg.h>
#include <gif_lib.h>
#include <zlib.h>
