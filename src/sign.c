/* Digest, HMAC and Base64 primitives (OpenSSL). */
#include <string.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/md5.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include "lc.h"

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *fetched_sha1;
static void sha1_fetch(void) { fetched_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL); }
#endif

/* OpenSSL 3's one-shot HMAC() looks the algorithm up on every call (a third
 * of a small signed call's signing time); SHA-1 is fetched once instead and
 * HMAC (RFC 2104) is computed with two digests. */
static const EVP_MD *sha1_md(void) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, sha1_fetch);
  return fetched_sha1 ? fetched_sha1 : EVP_sha1();
#else
  return EVP_sha1();
#endif
}

static int digest2(EVP_MD_CTX *ctx, const unsigned char *a, size_t an, const unsigned char *b, size_t bn,
                   unsigned char *out) {
  unsigned int n = 0;
  return EVP_DigestInit_ex(ctx, sha1_md(), NULL) && EVP_DigestUpdate(ctx, a, an) &&
         EVP_DigestUpdate(ctx, b, bn) && EVP_DigestFinal_ex(ctx, out, &n);
}

static int hmac_sha1(EVP_MD_CTX *ctx, const unsigned char *key, size_t kn, const unsigned char *msg, size_t mn,
                     unsigned char out[SHA_DIGEST_LENGTH]) {
  unsigned char k[64], pad[64], inner[SHA_DIGEST_LENGTH];
  int i, ok = ctx != NULL;
  memset(k, 0, sizeof k);
  if (ok && kn > sizeof k) ok = digest2(ctx, key, kn, (const unsigned char *)"", 0, k);
  else if (ok) memcpy(k, key, kn);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  ok = ok && digest2(ctx, pad, 64, msg, mn, inner);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  ok = ok && digest2(ctx, pad, 64, inner, sizeof inner, out);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  return ok;
}

/* One digest context per Lua state (an upvalue of hmac_sha1), made on first use: a fresh
 * context per call allocated and freed OpenSSL's provider state every time. A Lua state runs
 * one C function at a time, so two clients (or light threads) never use it together. */
typedef struct { EVP_MD_CTX *ctx; } md_box;

static int md_box_gc(lua_State *L) {
  md_box *b = (md_box *)lua_touserdata(L, 1);
  if (b->ctx) { EVP_MD_CTX_free(b->ctx); b->ctx = NULL; }
  return 0;
}

static int l_hmac_sha1(lua_State *L) {
  size_t kn, mn;
  const char *k = luaL_checklstring(L, 1, &kn), *m = luaL_checklstring(L, 2, &mn);
  md_box *box = (md_box *)lua_touserdata(L, lua_upvalueindex(1));
  unsigned char out[SHA_DIGEST_LENGTH];
  if (!box->ctx) box->ctx = EVP_MD_CTX_new();
  if (!hmac_sha1(box->ctx, (const unsigned char *)k, kn, (const unsigned char *)m, mn, out)) {
    /* a context left half-way by a failure is not reused */
    EVP_MD_CTX_free(box->ctx);
    box->ctx = NULL;
    return lc_pushfail(L, "hmac_sha1 failed");
  }
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
  md_box *box;
  luaL_setfuncs(L, funcs, 0);
  box = (md_box *)lua_newuserdata(L, sizeof(md_box));
  box->ctx = NULL;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, md_box_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, l_hmac_sha1, 1);
  lua_setfield(L, -2, "hmac_sha1");
}
