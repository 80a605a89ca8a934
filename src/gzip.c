/* gzip/deflate decompression for transports that do not have libcurl's
 * (the nginx cosocket transport asks for gzip and inflates here). */
#include <string.h>
#include <zlib.h>
#include "lc.h"

/* gunzip(s [, max_size]) -> string | nil, msg. Accepts gzip and zlib streams. */
static int l_gunzip(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_Number maxn = luaL_optnumber(L, 2, 64.0 * 1024 * 1024);
  size_t max = maxn != maxn || maxn < 0 ? 0 : maxn > 1e15 ? (size_t)1e15 : (size_t)maxn;
  z_stream z;
  lc_buf *out;
  int rc;
  memset(&z, 0, sizeof z);
  out = lc_newbox(L); /* freed by __gc whatever happens */
  if (inflateInit2(&z, 15 + 32) != Z_OK) return lc_pushfail(L, "gunzip: cannot initialise zlib");
  z.next_in = (Bytef *)s;
  z.avail_in = (uInt)n;
  do {
    if (!lc_buf_reserve(out, 64 * 1024)) { inflateEnd(&z); return lc_pushfail(L, "gunzip: out of memory"); }
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)(out->cap - out->len);
    rc = inflate(&z, Z_NO_FLUSH);
    out->len = out->cap - z.avail_out;
    if (out->len > max) { inflateEnd(&z); return lc_pushfail(L, "gunzip: output exceeds %d bytes", (int)max); }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) { inflateEnd(&z); return lc_pushfail(L, "gunzip: stream is truncated"); }
    if (rc == Z_STREAM_END && z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
      inflateReset(&z); /* concatenated gzip members form one stream */
      rc = Z_OK;
    }
  } while (rc == Z_OK || rc == Z_BUF_ERROR);
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return lc_pushfail(L, "gunzip: %s", z.msg ? z.msg : "corrupt stream");
  lua_pushlstring(L, out->data, out->len);
  return 1;
}

void lc_open_gzip(lua_State *L) {
  lua_pushcfunction(L, l_gunzip);
  lua_setfield(L, -2, "gunzip");
}
