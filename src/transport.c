/* HTTP transport over libcurl.
 *
 * One session per client: a curl multi handle (its connection cache is the
 * keep-alive pool) and a share handle (cookies, DNS, TLS sessions), so two
 * clients never share state. Every call, single or batch, runs through the
 * multi handle. While libcurl runs, callbacks only append to C buffers; Lua
 * tables are built after the transfer loop returns. */
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <curl/curl.h>
#include "lc.h"

extern char **environ;

#define SESSION_MT "luacloud.session"
#define MAX_REQUEST_HEAD (1024 * 1024 - 8192) /* libcurl's limit, less room for Host, User-Agent... */
#define BATCH_MT "luacloud.batch"

struct session {
  CURLM *multi;
  CURLSH *share;
  CURL *jar;               /* bound to the share: reads and clears cookies */
  long timeout_ms, connect_timeout_ms;
  int verify_tls, cookie_jar;   /* cookie_jar: libcurl keeps cookies (the engine has its own jar) */
  char *ca_file, *proxy, *user_agent;
  curl_off_t max_response;
  CURL *idle[16];          /* easy handles kept for reuse: set-up cost off the hot path */
  unsigned char idle_get[16]; /* idle[i] last sent a plain GET: only per-request options differ */
  int nidle;
  int live;                /* easy handles checked out to transfers; the share is freed when 0 */
};

typedef struct xfer {
  CURL *easy;
  struct curl_slist *hdrs;
  lc_buf body, head;
  curl_off_t max;
  int too_large, done, started;
  int plain_get;           /* set up as a GET without a body, nothing refused */
  CURLcode rc;
  const char *refused;     /* set up failed before sending: the error kind ("protocol", "transport") */
  char errbuf[CURL_ERROR_SIZE];
} xfer;

typedef struct session session;
typedef struct batch {
  xfer *x;
  int n;
  session *s;   /* its multi handle is NULL once the session is closed */
} batch;

static char *dupstr(const char *s) {
  char *d;
  size_t n;
  if (!s) return NULL;
  n = strlen(s) + 1;
  d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static session *check_session(lua_State *L, int i) {
  session *s = (session *)luaL_checkudata(L, i, SESSION_MT);
  if (!s->multi) luaL_error(L, "session is closed");
  return s;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  xfer *x = (xfer *)ud;
  size_t n = size * nmemb;
  if (x->max >= 0 && (curl_off_t)(x->body.len + n) > x->max) { x->too_large = 1; return 0; }
  if (!lc_buf_add(&x->body, p, n)) return 0;
  return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  xfer *x = (xfer *)ud;
  size_t n = size * nmemb;
  /* a new status line (after 100 Continue or a 1xx) starts a new header block */
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) x->head.len = 0;
  if (x->head.len + n > (1u << 20)) return 0;
  if (!lc_buf_add(&x->head, p, n)) return 0;
  return n;
}

/* Release a transfer's resources. Its easy handle goes back to libcurl; a
 * session closed while transfers were still out frees its share handle when
 * the last one comes home (libcurl refuses to free a share still in use). */
static void xfer_free(session *s, xfer *x) {
  if (x->easy) {
    if (x->started && !x->done && s->multi) curl_multi_remove_handle(s->multi, x->easy);
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    s->live--;
    if (!s->multi && s->live == 0 && s->share) { curl_share_cleanup(s->share); s->share = NULL; }
  }
  if (x->hdrs) { curl_slist_free_all(x->hdrs); x->hdrs = NULL; }
  lc_buf_free(&x->body);
  lc_buf_free(&x->head);
}

/* Give a finished transfer's easy handle back to the session for reuse. */
static void xfer_recycle(session *s, xfer *x) {
  if (x->easy && x->done && s->multi && s->nidle < (int)(sizeof s->idle / sizeof s->idle[0])) {
    s->idle_get[s->nidle] = (unsigned char)(x->plain_get && !x->refused);
    s->idle[s->nidle++] = x->easy;
    x->easy = NULL;
    s->live--;
  }
  xfer_free(s, x);
}

static int batch_gc(lua_State *L) {
  batch *b = (batch *)lua_touserdata(L, 1);
  int i;
  for (i = 0; i < b->n; i++) xfer_free(b->s, &b->x[i]);
  if (b->x != (xfer *)(void *)(b + 1)) free(b->x);
  b->x = NULL;
  b->n = 0;
  return 0;
}

static long ms_field(lua_State *L, int t, const char *k, long dflt) {
  long v = dflt;
  lua_getfield(L, t, k);
  if (lua_isnumber(L, -1)) {
    lua_Number s = lua_tonumber(L, -1);
    /* 1 ms .. 24 h: 0, negative or NaN would leave libcurl with no timeout */
    v = !(s > 0.001) ? 1 : s > 86400 ? 86400000L : (long)(s * 1000.0);
  }
  else if (!lua_isnil(L, -1)) luaL_error(L, "request field '%s' must be a number of seconds", k);
  lua_pop(L, 1);
  return v;
}

/* Whether a request may be sent again once it may have reached the server.
 * The engine says so in req.idempotent; without it, the HTTP method decides. */
static int idempotent(lua_State *L, int t, const char *method) {
  int r;
  lua_getfield(L, t, "idempotent");
  if (lua_isboolean(L, -1)) r = lua_toboolean(L, -1);
  else r = strcmp(method, "POST") != 0 && strcmp(method, "PATCH") != 0;
  lua_pop(L, 1);
  return r;
}

/* Only http and https: an endpoint handed over by a server (Clodo's management
 * URL) must not make the client read local files or speak other protocols. */
static int allowed_url(const char *url) {
  return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static void refuse(xfer *x, const char *kind, CURLcode rc, const char *msg, const char *detail) {
  if (x->refused) return; /* the first failure explains best */
  x->refused = kind;
  x->rc = rc;
  x->done = 1;
  snprintf(x->errbuf, sizeof x->errbuf, "%s%.200s", msg, detail ? detail : "");
}

/* A failed setopt (out of memory, an option this libcurl lacks) fails the
 * request instead of sending it without the option. */
#define SETOPT(opt, val) do { CURLcode r_ = curl_easy_setopt(e, opt, val); \
    if (r_ != CURLE_OK) refuse(x, "transport", r_, "libcurl refused option " #opt ": ", curl_easy_strerror(r_)); } while (0)

/* A proxy libcurl would take from the environment (it reads these at every
 * request): the request target then has to be the whole URL. */
static int proxy_env(void) {
  char **e;
  for (e = environ; *e; e++) {
    const char *v = *e;
    int c0 = v[0] | 32, c1 = c0 ? v[1] | 32 : 0;
    if (!((c0 == 'h' && c1 == 't') || (c0 == 'a' && c1 == 'l'))) continue;
    if (strncasecmp(v, "http_proxy=", 11) == 0 || strncasecmp(v, "https_proxy=", 12) == 0 ||
        strncasecmp(v, "all_proxy=", 10) == 0) return 1;
  }
  return 0;
}

/* Where the request target (path and query) of an http(s) URL starts, or 0
 * when libcurl would send anything else than those bytes as they are: a
 * fragment, a dot segment, a space, control or non-ASCII bytes, no path, user
 * info; or when something reads the URL's path (cookies, a proxy). */
static size_t target_at(session *s, const char *url) {
  const char *a = strstr(url, "://"), *p;
  if (s->proxy || s->cookie_jar || !a || a[3] == '/' || a[3] == 0) return 0;
  for (p = a + 3; *p && *p != '/' && *p != '?' && *p != '#'; p++) if (*p == '@') return 0;
  if (*p != '/' || (size_t)(p - url) >= 256) return 0;
  {
    const unsigned char *t = (const unsigned char *)p;
    for (; *t && *t != '?'; t++) /* the path: no dot segment either */
      if (*t <= 0x20 || *t >= 0x7f || *t == '#' || (*t == '.' && t[-1] == '/')) return 0;
    for (; *t; t++) if (*t <= 0x20 || *t >= 0x7f || *t == '#') return 0;
  }
  return proxy_env() ? 0 : (size_t)(p - url);
}

/* libcurl 7.88 copies a URL's path and query byte by byte through its own
 * printf about six times per request (some 280 instructions a byte: most of
 * a small call's cost). Handed over as the request target after a URL of the
 * origin alone, the same bytes go out in one copy. */
static void set_url(session *s, xfer *x, CURL *e, const char *url) {
#if LIBCURL_VERSION_NUM >= 0x073700
  size_t at = target_at(s, url);
  if (at) {
    char origin[258];
    memcpy(origin, url, at);
    origin[at] = '/';
    origin[at + 1] = 0;
    SETOPT(CURLOPT_URL, origin); /* libcurl copies strings */
    SETOPT(CURLOPT_REQUEST_TARGET, url + at);
    return;
  }
  SETOPT(CURLOPT_REQUEST_TARGET, (char *)NULL);
#endif
  SETOPT(CURLOPT_URL, url);
}

/* The options every request of a session sets alike (after curl_easy_reset or on a new handle). */
static void session_options(session *s, xfer *x, CURL *e) {
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SETOPT(CURLOPT_SHARE, s->share);
  SETOPT(CURLOPT_NOSIGNAL, 1L);
  SETOPT(CURLOPT_FOLLOWLOCATION, 0L); /* redirects are the engine's decision */
  SETOPT(CURLOPT_ACCEPT_ENCODING, "");
  SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
  SETOPT(CURLOPT_SSL_VERIFYPEER, s->verify_tls ? 1L : 0L);
  SETOPT(CURLOPT_SSL_VERIFYHOST, s->verify_tls ? 2L : 0L);
  if (s->ca_file) SETOPT(CURLOPT_CAINFO, s->ca_file);
  if (s->proxy) SETOPT(CURLOPT_PROXY, s->proxy);
  if (s->user_agent) SETOPT(CURLOPT_USERAGENT, s->user_agent);
  if (s->max_response >= 0) SETOPT(CURLOPT_MAXFILESIZE_LARGE, s->max_response);
  SETOPT(CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(CURLOPT_HEADERFUNCTION, on_header);
}

/* The request's headers as a curl_slist, with "Expect:" first where libcurl could add
 * "Expect: 100-continue" (a body to send: libcurl adds it for POST and PUT bodies only, so a
 * plain GET goes without the entry, and without a list when it has no headers). May raise. */
static void header_list(lua_State *L, xfer *x, int t, int expect) {
  if (expect) {
    x->hdrs = curl_slist_append(NULL, "Expect:");
    if (!x->hdrs) luaL_error(L, "out of memory");
  }
  lua_getfield(L, t, "headers");
  if (lua_istable(L, -1)) {
    luaL_Buffer b;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      struct curl_slist *n;
      const char *k, *v;
      size_t kn, vn;
      /* type checks, not luaL_checkstring: converting the key would break lua_next */
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "header names must be strings");
      k = lua_tolstring(L, -2, &kn);
      v = luaL_checklstring(L, -1, &vn);
      if (strpbrk(k, "\r\n:") || strpbrk(v, "\r\n")) luaL_error(L, "header '%s' contains a line break or colon", k);
      luaL_buffinit(L, &b);
      luaL_addlstring(&b, k, kn);
      luaL_addlstring(&b, ": ", 2);
      luaL_addlstring(&b, v, vn);
      luaL_pushresult(&b);
      n = curl_slist_append(x->hdrs, lua_tostring(L, -1));
      if (!n) luaL_error(L, "out of memory");
      x->hdrs = n;
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
}

/* Configure one transfer from the request table at index t. May raise: the
 * easy handle is owned by the batch userdata, whose __gc cleans up. Strings
 * handed to libcurl without copy (the body) stay referenced by the request
 * table on the Lua stack for the whole call. A reused handle whose last
 * request was a plain GET keeps its session options and method when this one
 * is a plain GET too (the keep-alive loop of small calls): only the options
 * of this request are set again. Anything else starts from curl_easy_reset. */
static void setup_xfer(lua_State *L, session *s, xfer *x, int t) {
  const char *url, *method;
  size_t blen = 0, url_len;
  const char *body = NULL;
  int was_get = 0, get;
  CURL *e;
  luaL_checktype(L, t, LUA_TTABLE);
  lua_getfield(L, t, "method");
  method = lua_isnil(L, -1) ? "GET" : luaL_checkstring(L, -1);
  lua_getfield(L, t, "body");
  if (!lua_isnil(L, -1)) body = luaL_checklstring(L, -1, &blen);
  get = strcmp(method, "GET") == 0 && !body;
  if (s->nidle > 0) {
    --s->nidle;
    e = s->idle[s->nidle];
    was_get = s->idle_get[s->nidle];
    if (!(was_get && get)) { curl_easy_reset(e); was_get = 0; }
  } else {
    e = curl_easy_init();
    /* the cookie engine survives curl_easy_reset; enabling it again on a
     * reused handle leaks (libcurl 7.88) */
    if (e && s->cookie_jar) SETOPT(CURLOPT_COOKIEFILE, "");
  }
  x->easy = e;
  if (e) s->live++;
  if (!e) luaL_error(L, "curl_easy_init failed");
  x->max = s->max_response;
  x->plain_get = get;
  lua_getfield(L, t, "url");
  url = lua_tostring(L, -1);
  if (!url) luaL_error(L, "request needs a url");
  url_len = strlen(url);
  if (!allowed_url(url)) {
    const char *colon = strchr(url, ':');
    char scheme[24];
    size_t n = colon ? (size_t)(colon - url) : 0;
    if (n >= sizeof scheme) n = sizeof scheme - 1;
    memcpy(scheme, url, n);
    scheme[n] = 0;
    refuse(x, "protocol", CURLE_UNSUPPORTED_PROTOCOL, "only http and https URLs are allowed, not scheme: ", n ? scheme : "(none)");
  }
  set_url(s, x, e, url);
  lua_pop(L, 1);
  if (!was_get) session_options(s, x, e);
  /* libcurl silently resends a request whose reused connection died before
   * any answer byte (Curl_retry_request, up to 5 times, possibly onto other
   * pooled dead connections) although the server may have acted on it. A
   * fresh connection is never retried that way, so a request that must not
   * be repeated never goes on a reused one. Set both ways: a reused handle
   * keeps the last value. */
  SETOPT(CURLOPT_FRESH_CONNECT, idempotent(L, t, method) ? 0L : 1L);
  if (was_get) {
    /* the handle's method is GET already */
  } else if (get) {
    SETOPT(CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    SETOPT(CURLOPT_NOBODY, 1L);
  } else if (!body && strcmp(method, "POST") != 0) {
    /* DELETE/PUT without a body: no form Content-Type invented by libcurl */
    SETOPT(CURLOPT_CUSTOMREQUEST, method);
  } else {
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    SETOPT(CURLOPT_COPYPOSTFIELDS, body ? body : "");
    if (strcmp(method, "POST") != 0) SETOPT(CURLOPT_CUSTOMREQUEST, method);
  }
  lua_pop(L, 2);
  header_list(L, x, t, !get);
  {
    /* libcurl builds the request line and headers in a buffer of at most
     * 1 MiB and reports more as "Out of memory": say what is wrong instead */
    size_t total = url_len;
    struct curl_slist *h;
    for (h = x->hdrs; h; h = h->next) total += strlen(h->data) + 2;
    if (total > MAX_REQUEST_HEAD) {
      char n[64];
      snprintf(n, sizeof n, "%lu bytes", (unsigned long)total);
      refuse(x, "transport", CURLE_OUT_OF_MEMORY, "the URL and headers exceed libcurl's 1 MiB limit (send large values in a request body): ", n);
    }
  }
  SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
  SETOPT(CURLOPT_TIMEOUT_MS, ms_field(L, t, "timeout", s->timeout_ms));
  SETOPT(CURLOPT_CONNECTTIMEOUT_MS, ms_field(L, t, "connect_timeout", s->connect_timeout_ms));
  SETOPT(CURLOPT_WRITEDATA, x);
  SETOPT(CURLOPT_HEADERDATA, x);
  SETOPT(CURLOPT_PRIVATE, x);
  /* else errbuf holds the reason; a reused handle must not keep the last transfer's buffer */
  SETOPT(CURLOPT_ERRORBUFFER, x->refused ? NULL : x->errbuf);
}

/* Read finished transfers, whoever started them (a batch, or a pending
 * request started earlier with s:start): each easy handle points to its xfer. */
static void collect(CURLM *m) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m, &left))) {
    if (msg->msg == CURLMSG_DONE) {
      xfer *d = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
      d->rc = msg->data.result;
      d->done = 1;
      curl_multi_remove_handle(m, d->easy);
    }
  }
}

static int add(CURLM *m, xfer *x) {
  x->started = 1;
  if (x->done) return 0; /* refused while being set up: never sent */
  if (curl_multi_add_handle(m, x->easy) != CURLM_OK) {
    x->done = 1;
    x->rc = CURLE_FAILED_INIT;
    return 0;
  }
  return 1;
}

/* The transfer loop: no Lua API call happens in here. */
static void run(CURLM *m, xfer *x, int n, int limit) {
  int next = 0, running = 0, i;
  if (limit < 1) limit = 1;
  for (;;) {
    int active = 0;
    for (i = 0; i < next; i++) active += !x[i].done;
    while (active < limit && next < n) active += add(m, &x[next++]);
    if (active == 0) break;
    curl_multi_perform(m, &running);
    collect(m);
    active = 0;
    for (i = 0; i < next; i++) active += !x[i].done;
    if (active > 0) curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  for (i = 0; i < n; i++) if (!x[i].done) { x[i].done = 1; x[i].rc = CURLE_FAILED_INIT; }
}

static const char *err_kind(xfer *x) {
  if (x->refused) return x->refused;
  if (x->too_large || x->rc == CURLE_FILESIZE_EXCEEDED) return "too_large";
  switch (x->rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: return "connect";
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CLIENTCERT: case CURLE_USE_SSL_FAILED: return "tls";
    default: return "transport";
  }
}

/* The response headers as one table, names lower-cased: sized for its lines at once (filled
 * from an empty table it was rehashed three times for a usual answer). */
static void push_headers(lua_State *L, lc_buf *h) {
  const char *p = h->data, *end = h->data + h->len, *q;
  int lines = 0;
  for (q = p; q && q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) lines++;
  lua_createtable(L, 0, lines > 1 ? lines - 1 : 0); /* less the status line */
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *ve;
    if (!eol) eol = end;
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && !(eol - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
      size_t i, kn = (size_t)(colon - p);
      char key[256];
      if (kn < sizeof key) {
        for (i = 0; i < kn; i++) {
          unsigned char c = (unsigned char)p[i];
          key[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); /* ASCII, as the C locale */
        }
        v = colon + 1;
        ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t')) v++;
        while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
        lua_pushlstring(L, key, kn);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          lua_pushlstring(L, v, (size_t)(ve - v));
        } else {
          /* repeated header: Set-Cookie lines are kept apart by newlines */
          lua_pushstring(L, kn == 10 && memcmp(key, "set-cookie", 10) == 0 ? "\n" : ", ");
          lua_pushlstring(L, v, (size_t)(ve - v));
          lua_concat(L, 3);
        }
        lua_rawset(L, -3);
      }
    }
    p = eol + 1;
  }
}

/* Push the result of one transfer: the response table, or nil + error table. */
static int push_result(lua_State *L, xfer *x) {
  if (x->rc != CURLE_OK) {
    const char *kind = err_kind(x);
    lua_pushnil(L);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    if (x->too_large) lua_pushliteral(L, "response exceeds max_response");
    else lua_pushstring(L, x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->rc));
    lua_setfield(L, -2, "message");
    lua_pushinteger(L, (lua_Integer)x->rc);
    lua_setfield(L, -2, "curl_code");
    return 2;
  }
  if (x->body.oom || x->head.oom) {
    lua_pushnil(L);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "transport");
    lua_setfield(L, -2, "kind");
    lua_pushliteral(L, "out of memory while receiving the response");
    lua_setfield(L, -2, "message");
    return 2;
  }
  {
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
    lua_setfield(L, -2, "body");
    push_headers(L, &x->head);
    lua_setfield(L, -2, "headers");
    {
      long conns = 0;
      curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
      double total = 0;
      lua_pushinteger(L, conns); /* 0 when a kept-alive connection was reused */
      lua_setfield(L, -2, "new_connections");
      curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
      lua_pushnumber(L, total);  /* seconds, from start to the last byte */
      lua_setfield(L, -2, "time");
    }
  }
  return 1;
}

/* A batch's transfers: one request's lives in the userdata itself (no calloc per call). */
static batch *new_batch(lua_State *L, session *s, int n) {
  batch *b = (batch *)lua_newuserdata(L, sizeof(batch) + (n == 1 ? sizeof(xfer) : 0));
  b->n = 0;
  b->s = s;
  b->x = NULL;
  luaL_getmetatable(L, BATCH_MT);
  lua_setmetatable(L, -2);
  if (n == 1) {
    b->x = (xfer *)(void *)(b + 1);
    memset(b->x, 0, sizeof(xfer));
  } else {
    b->x = (xfer *)calloc((size_t)(n ? n : 1), sizeof(xfer));
    if (!b->x) luaL_error(L, "out of memory");
  }
  b->n = n;
  return b;
}

/* The batch of one request that s:request reuses: idle in the registry under the session's
 * address, taken out while in use, so that a nested call (a finalizer run by an allocation)
 * or a call that raised half-way never shares it; such a one is left to its finalizer. */
static batch *take_single(lua_State *L, session *s) {
  batch *b;
  LC_RAWGETP(L, LUA_REGISTRYINDEX, s);
  b = (batch *)lua_touserdata(L, -1);
  if (!b) {
    lua_pop(L, 1);
    return new_batch(L, s, 1);
  }
  lua_pushnil(L);
  LC_RAWSETP(L, LUA_REGISTRYINDEX, s);
  memset(b->x, 0, sizeof(xfer));
  return b;
}

/* s:request(req) -> resp | nil, err */
static int l_request(lua_State *L) {
  session *s = check_session(L, 1);
  batch *b;
  int r;
  lua_settop(L, 2);
  b = take_single(L, s); /* 3 */
  setup_xfer(L, s, &b->x[0], 2);
  run(s->multi, b->x, 1, 1);
  r = push_result(L, &b->x[0]);
  xfer_recycle(s, &b->x[0]);
  if (s->multi) {
    lua_pushvalue(L, 3);
    LC_RAWSETP(L, LUA_REGISTRYINDEX, s);
  }
  return r;
}

/* s:batch(reqs [, concurrency]) -> { resp | { err = e }, ... } in input order */
static int l_batch(lua_State *L) {
  session *s = check_session(L, 1);
  int n, i, limit;
  batch *b;
  luaL_checktype(L, 2, LUA_TTABLE);
  limit = (int)luaL_optinteger(L, 3, 8);
  lua_settop(L, 3);
  n = (int)lua_rawlen(L, 2);
  b = new_batch(L, s, n); /* 4 */
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    setup_xfer(L, s, &b->x[i], lua_gettop(L));
    lua_pop(L, 1);
  }
  run(s->multi, b->x, n, limit);
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    if (push_result(L, &b->x[i]) == 2) {
      lua_createtable(L, 0, 1);
      lua_insert(L, -2);
      lua_setfield(L, -2, "err");
      lua_remove(L, -2);
    }
    lua_rawseti(L, -2, i + 1);
    xfer_recycle(s, &b->x[i]);
  }
  return 1;
}

/* s:start(req) -> pending: the request is sent now and completes while the
 * caller does other work (c:each uses it to fetch the next page early). */
static int l_start(lua_State *L) {
  session *s = check_session(L, 1);
  batch *b;
  int running = 0;
  lua_settop(L, 2);
  b = new_batch(L, s, 1);
  setup_xfer(L, s, &b->x[0], 2);
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, 1); /* the pending request keeps its session alive */
  lua_setfield(L, -2, "session");
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "request"); /* keeps the body string alive */
#if LUA_VERSION_NUM >= 502
  lua_setuservalue(L, 3);
#else
  lua_setfenv(L, 3);
#endif
  if (add(s->multi, &b->x[0])) curl_multi_perform(s->multi, &running);
  collect(s->multi);
  lua_settop(L, 3);
  return 1;
}

/* p:finish() -> resp | nil, err (once) */
static int l_finish(lua_State *L) {
  batch *b = (batch *)luaL_checkudata(L, 1, BATCH_MT);
  session *s;
  int r, running = 0;
#if LUA_VERSION_NUM >= 502
  lua_getuservalue(L, 1);
#else
  lua_getfenv(L, 1);
#endif
  if (!lua_istable(L, -1) || b->n != 1 || !b->x[0].easy) return luaL_error(L, "this request was already finished");
  lua_getfield(L, -1, "session");
  s = check_session(L, -1);
  while (!b->x[0].done) {
    curl_multi_perform(s->multi, &running);
    collect(s->multi);
    if (!b->x[0].done) curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
  }
  r = push_result(L, &b->x[0]);
  xfer_recycle(s, &b->x[0]);
  return r;
}

static int l_cookies(lua_State *L) {
  session *s = check_session(L, 1);
  struct curl_slist *list = NULL, *p;
  int i = 0;
  lua_newtable(L);
  if (curl_easy_getinfo(s->jar, CURLINFO_COOKIELIST, &list) != CURLE_OK) return 1;
  for (p = list; p; p = p->next) {
    lua_pushstring(L, p->data);
    lua_rawseti(L, -2, ++i);
  }
  curl_slist_free_all(list);
  return 1;
}

static int l_clear_cookies(lua_State *L) {
  session *s = check_session(L, 1);
  curl_easy_setopt(s->jar, CURLOPT_COOKIELIST, "ALL");
  return 0;
}

static int l_close(lua_State *L) {
  session *s = (session *)luaL_checkudata(L, 1, SESSION_MT);
  lua_pushnil(L); /* the idle batch of s:request holds no handle: its finalizer frees nothing of s */
  LC_RAWSETP(L, LUA_REGISTRYINDEX, s);
  while (s->nidle > 0) curl_easy_cleanup(s->idle[--s->nidle]);
  if (s->jar) { curl_easy_cleanup(s->jar); s->jar = NULL; }
  if (s->multi) { curl_multi_cleanup(s->multi); s->multi = NULL; }
  if (s->share && s->live == 0) { curl_share_cleanup(s->share); s->share = NULL; }
  free(s->ca_file); free(s->proxy); free(s->user_agent);
  s->ca_file = s->proxy = s->user_agent = NULL;
  return 0;
}

static int l_tostring(lua_State *L) {
  session *s = (session *)luaL_checkudata(L, 1, SESSION_MT);
  lua_pushfstring(L, "luacloud.session (%s)", s->multi ? "open" : "closed");
  return 1;
}

static const char *opt_str(lua_State *L, int t, const char *k) {
  const char *v;
  lua_getfield(L, t, k);
  v = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
  lua_pop(L, 1);
  return v;
}

static int dupopt(lua_State *L, char **dst, const char *k) {
  const char *v = opt_str(L, 1, k);
  *dst = dupstr(v);
  return !v || *dst;
}

/* core.session(opts) */
static int l_session(lua_State *L) {
  session *s;
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) { lua_newtable(L); lua_replace(L, 1); }
  luaL_checktype(L, 1, LUA_TTABLE);
  s = (session *)lua_newuserdata(L, sizeof(session));
  memset(s, 0, sizeof *s);
  luaL_getmetatable(L, SESSION_MT);
  lua_setmetatable(L, -2);
  s->timeout_ms = ms_field(L, 1, "timeout", 60000);
  s->connect_timeout_ms = ms_field(L, 1, "connect_timeout", 10000);
  lua_getfield(L, 1, "verify_tls");
  s->verify_tls = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "cookie_jar");
  s->cookie_jar = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "max_response");
  s->max_response = (curl_off_t)64 << 20;
  if (lua_isnumber(L, -1)) {
    /* NaN, negative or huge: a cast would be undefined; keep the default or cap */
    lua_Number m = lua_tonumber(L, -1);
    if (m >= 0) s->max_response = m > 4e18 ? (curl_off_t)4e18 : (curl_off_t)m;
  }
  lua_pop(L, 1);
  /* a failed copy must not silently drop a CA file or a proxy */
  if (!dupopt(L, &s->ca_file, "ca_file") || !dupopt(L, &s->proxy, "proxy") || !dupopt(L, &s->user_agent, "user_agent"))
    return luaL_error(L, "out of memory");
  s->multi = curl_multi_init();
  s->share = curl_share_init();
  s->jar = curl_easy_init();
  if (!s->multi || !s->share || !s->jar) return luaL_error(L, "cannot initialise libcurl");
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, 32L);
  curl_easy_setopt(s->jar, CURLOPT_SHARE, s->share);
  curl_easy_setopt(s->jar, CURLOPT_COOKIEFILE, "");
  return 1;
}

static const luaL_Reg session_methods[] = {
  {"request", l_request},
  {"batch", l_batch},
  {"start", l_start},
  {"cookies", l_cookies},
  {"clear_cookies", l_clear_cookies},
  {"close", l_close},
  {NULL, NULL}
};

static const luaL_Reg session_meta[] = {
  {"__gc", l_close},
#if LUA_VERSION_NUM >= 504
  {"__close", l_close},
#endif
  {"__tostring", l_tostring},
  {NULL, NULL}
};

void lc_open_transport(lua_State *L) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  luaL_newmetatable(L, SESSION_MT);
  luaL_setfuncs(L, session_meta, 0);
  luaL_newlib(L, session_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, BATCH_MT);
  lua_pushcfunction(L, batch_gc);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);
  lua_pushcfunction(L, l_finish);
  lua_setfield(L, -2, "finish");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_session);
  lua_setfield(L, -2, "session");
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
}
