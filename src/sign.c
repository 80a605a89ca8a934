/* Digest, HMAC and Base64 primitives (OpenSSL). */
/* SHA1_Init/Update/Final (deprecated by OpenSSL 3, still there): a SHA_CTX is a plain struct,
 * so a key's HMAC pad states are copied with memcpy; an EVP context copy allocates. */
#define OPENSSL_API_COMPAT 0x10101000L
#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/md5.h>
#include <openssl/crypto.h>
#include "lc.h"

/* The SHA-1 states after the key's inner and outer pad blocks (RFC 2104) of the last key
 * used: a client signs every request with one key, so each HMAC then hashes the message and
 * the inner digest only, not two more pad blocks. One per Lua state (an upvalue of
 * hmac_sha1, the key itself the other): a Lua state runs one C function at a time. */
typedef struct { SHA_CTX ipad, opad; int ready; } hmac_box;

static int hmac_box_gc(lua_State *L) {
  hmac_box *b = (hmac_box *)lua_touserdata(L, 1);
  OPENSSL_cleanse(b, sizeof *b);
  return 0;
}

static int hmac_keyed(hmac_box *b, const unsigned char *key, size_t kn) {
  unsigned char k[64], pad[64];
  int i, ok = 1;
  memset(k, 0, sizeof k);
  if (kn > sizeof k) ok = SHA1(key, kn, k) != NULL;
  else memcpy(k, key, kn);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  ok = ok && SHA1_Init(&b->ipad) && SHA1_Update(&b->ipad, pad, 64);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  ok = ok && SHA1_Init(&b->opad) && SHA1_Update(&b->opad, pad, 64);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  b->ready = ok;
  return ok;
}

static int hmac_sha1(const hmac_box *b, const unsigned char *msg, size_t mn, unsigned char out[SHA_DIGEST_LENGTH]) {
  SHA_CTX c;
  unsigned char inner[SHA_DIGEST_LENGTH];
  int ok;
  memcpy(&c, &b->ipad, sizeof c);
  ok = SHA1_Update(&c, msg, mn) && SHA1_Final(inner, &c);
  memcpy(&c, &b->opad, sizeof c);
  ok = ok && SHA1_Update(&c, inner, sizeof inner) && SHA1_Final(out, &c);
  OPENSSL_cleanse(&c, sizeof c);
  OPENSSL_cleanse(inner, sizeof inner);
  return ok;
}

static int l_hmac_sha1(lua_State *L) {
  size_t kn, mn;
  const char *k = luaL_checklstring(L, 1, &kn), *m = luaL_checklstring(L, 2, &mn);
  hmac_box *box = (hmac_box *)lua_touserdata(L, lua_upvalueindex(1));
  unsigned char out[SHA_DIGEST_LENGTH];
  if (!box->ready || !lua_rawequal(L, 1, lua_upvalueindex(2))) {
    lua_pushnil(L); /* the key of the pad states, once they are made */
    lua_replace(L, lua_upvalueindex(2));
    if (!hmac_keyed(box, (const unsigned char *)k, kn)) return lc_pushfail(L, "hmac_sha1 failed");
    lua_pushvalue(L, 1);
    lua_replace(L, lua_upvalueindex(2));
  }
  if (!hmac_sha1(box, (const unsigned char *)m, mn, out)) return lc_pushfail(L, "hmac_sha1 failed");
  lua_pushlstring(L, (const char *)out, sizeof out);
  return 1;
}

static int l_sha1(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  unsigned char out[SHA_DIGEST_LENGTH];
  SHA1((const unsigned char *)s, n, out);
  lua_pushlstring(L, (const char *)out, sizeof out);
  return 1;
}

static void push_hex(lua_State *L, const unsigned char *d, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char buf[2 * EVP_MAX_MD_SIZE];
  size_t i;
  for (i = 0; i < n; i++) { buf[2 * i] = hex[d[i] >> 4]; buf[2 * i + 1] = hex[d[i] & 15]; }
  lua_pushlstring(L, buf, 2 * n);
}

static int l_md5_hex(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int outn = 0;
  if (!EVP_Digest(s, n, out, &outn, EVP_md5(), NULL)) return lc_pushfail(L, "md5 failed");
  push_hex(L, out, outn);
  return 1;
}

static int l_hex(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  size_t i;
  static const char hex[] = "0123456789abcdef";
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    luaL_addchar(&b, hex[(unsigned char)s[i] >> 4]);
    luaL_addchar(&b, hex[(unsigned char)s[i] & 15]);
  }
  luaL_pushresult(&b);
  return 1;
}

static void push_b64(lua_State *L, const char *s, size_t n) {
  size_t outn = 4 * ((n + 2) / 3) + 1;
  luaL_Buffer b;
  unsigned char *out;
  int w;
#if LUA_VERSION_NUM >= 502
  out = (unsigned char *)luaL_buffinitsize(L, &b, outn);
  w = EVP_EncodeBlock(out, (const unsigned char *)s, (int)n);
  luaL_pushresultsize(&b, (size_t)w);
#else
  out = (unsigned char *)lua_newuserdata(L, outn);
  w = EVP_EncodeBlock(out, (const unsigned char *)s, (int)n);
  lua_pushlstring(L, (const char *)out, (size_t)w);
  lua_remove(L, -2);
  (void)b;
#endif
}

static int l_b64encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (n > 0x3fffffff) return luaL_argerror(L, 1, "string too long");
  push_b64(L, s, n);
  return 1;
}

static int l_b64decode(lua_State *L) {
  size_t n, i, pad = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  unsigned char *out;
  int w;
  if (n % 4 != 0) return lc_pushfail(L, "base64: length is not a multiple of 4");
  for (i = n; i > 0 && s[i - 1] == '='; i--) pad++;
  if (pad > 2) return lc_pushfail(L, "base64: bad padding");
  /* EVP_DecodeBlock skips whitespace and takes '=' anywhere: be strict */
  for (i = 0; i < n - pad; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return lc_pushfail(L, "base64: invalid character at byte %d", (int)i + 1);
  }
  out = (unsigned char *)lua_newuserdata(L, n / 4 * 3 + 1);
  w = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
  if (w < 0) return lc_pushfail(L, "base64: invalid character");
  lua_pushlstring(L, (const char *)out, (size_t)w - pad);
  return 1;
}

static int l_basic_auth(lua_State *L) {
  size_t un, pn;
  const char *u = luaL_checklstring(L, 1, &un);
  luaL_checklstring(L, 2, &pn);
  if (memchr(u, ':', un)) return luaL_argerror(L, 1, "a Basic user name cannot contain ':'");
  lua_pushliteral(L, "Basic ");
  lua_pushvalue(L, 1);
  lua_pushliteral(L, ":");
  lua_pushvalue(L, 2);
  lua_concat(L, 3);
  push_b64(L, lua_tostring(L, -1), un + pn + 1);
  lua_remove(L, -2);
  lua_concat(L, 2);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"sha1", l_sha1},
  {"md5_hex", l_md5_hex},
  {"hex", l_hex},
  {"b64encode", l_b64encode},
  {"b64decode", l_b64decode},
  {"basic_auth", l_basic_auth},
  {NULL, NULL}
};

void lc_open_sign(lua_State *L) {
  hmac_box *box;
  luaL_setfuncs(L, funcs, 0);
  box = (hmac_box *)lua_newuserdata(L, sizeof(hmac_box));
  memset(box, 0, sizeof *box);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, hmac_box_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushnil(L);
  lua_pushcclosure(L, l_hmac_sha1, 2);
  lua_setfield(L, -2, "hmac_sha1");
}
