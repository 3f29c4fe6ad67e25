// Image, animation and compression libraries from Debian: stb (PNG/JPEG decode, PNG encode), giflib, zlib.
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <gif_lib.h>
#include <zlib.h>
