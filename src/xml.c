/* XML <-> Lua tables.
 *
 * Decoding runs libxml2's SAX2 push parser over the input in chunks. The SAX
 * callbacks never touch Lua: they append compact events to a tape; after each
 * chunk the tape is replayed into Lua tables while no libxml2 frame is on the C
 * stack, so a Lua error (out of memory) cannot unwind through libxml2. No DOM is
 * built and the tape never holds more than one chunk's events.
 *
 * Hardening: no network (XML_PARSE_NONET), any DOCTYPE is refused outright (so
 * no entity can be declared, hence none expanded and no external entity
 * loaded), depth and size limits.
 */
#include <string.h>
#include <stdint.h>
#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/dict.h>
#include "lc.h"

#define CHUNK (64 * 1024)
#define PRUNE_MAX 32
#define HINT_DEPTH 32 /* tables presized by depth (replay's hint) */

typedef struct xdec {
  xmlParserCtxtPtr ctxt;
  lc_buf tape;   /* events of the current chunk */
  lc_buf text;   /* text of the open elements, innermost last */
  lc_buf scratch;
  lc_buf item;   /* filter: the events of the item being captured */
  lc_buf frames; /* replay's frame array */
  int depth, max_depth, failed, code; /* code: libxml2 error number, 0 for our own */
  char err[256];
  /* a projecting filter (opts.filter with fields): inside an item, an element on no path of
   * the predicate or the projection is recorded bare (no attributes, text or children) */
  lc_filter *prune_f;
  const char *items;
  size_t items_len;
  int lower, item_depth, prune; /* item_depth: depth of the open item, 0 outside; prune: open bare levels */
  int prune_marked;              /* the outermost bare element is on the tape */
  const char *names[PRUNE_MAX + 1];
  unsigned char kids[PRUNE_MAX + 1];
  /* lc_filter_wants of an item's child by its name's address: libxml2 hands out names from the
   * parser's dictionary, which lives as long as this decode, so an address is one name */
  const xmlChar *want_name[16];
  signed char want[16]; /* inside an item: the element at this depth has a child on the tape */
  /* bit per depth: the open element at that depth has text other than blanks on the tape; blanks
   * before it are trimmed from the element's text whatever follows, so they are not recorded */
  unsigned char texted[10000 / 8 + 2];
} xdec;

static inline void put_u32(lc_buf *b, size_t v) {
  uint32_t u = (uint32_t)v;
  if (b->cap - b->len >= 4) { memcpy(b->data + b->len, &u, 4); b->len += 4; return; }
  lc_buf_add(b, &u, 4);
}

static void fail(xdec *d, const char *msg) {
  if (!d->failed) {
    d->failed = 1;
    snprintf(d->err, sizeof d->err, "%s", msg);
  }
  xmlStopParser(d->ctxt);
}

/* whether the element just opened at depth (root 1) is at the items path */
static int sax_at_items(xdec *d, int depth) {
  const char *c = d->items, *e = d->items + d->items_len;
  int i;
  for (i = 2; i <= depth; i++) {
    const char *dot = memchr(c, '.', (size_t)(e - c));
    size_t cn = (size_t)((dot ? dot : e) - c), k, n = strlen(d->names[i]);
    if (n != cn || (i == depth) != !dot) return 0;
    for (k = 0; k < n; k++)
      if ((d->lower ? (char)tolower((unsigned char)d->names[i][k]) : d->names[i][k]) != c[k]) return 0;
    c = dot ? dot + 1 : e;
  }
  return depth >= 2;
}

static int child_wanted(xdec *d, const xmlChar *local, int depth) {
  unsigned h;
  int w;
  if (depth != d->item_depth + 1)
    return lc_filter_wants(d->prune_f, &d->names[d->item_depth + 1], depth - d->item_depth, d->lower);
  h = (unsigned)(((uintptr_t)local >> 3) & 15);
  if (d->want_name[h] == local) return d->want[h];
  w = lc_filter_wants(d->prune_f, &d->names[depth], 1, d->lower);
  d->want_name[h] = local;
  d->want[h] = (signed char)w;
  return w;
}

/* 1 when the element just opened is not recorded in full (see xdec.prune_f) */
static int prune_start(xdec *d, const xmlChar *local) {
  int depth = d->depth;
  size_t n;
  if (d->prune) { d->prune++; return 1; }
  if (depth > PRUNE_MAX) return 0;
  d->names[depth] = (const char *)local;
  if (!d->item_depth) {
    if (sax_at_items(d, depth)) { d->item_depth = depth; d->kids[depth] = 0; }
    return 0;
  }
  d->kids[depth] = 0;
  if (child_wanted(d, local, depth)) {
    d->kids[depth - 1] = 1;
    return 0;
  }
  d->prune = 1;
  /* one bare child is enough to make its parent a table; more change nothing the filter sees */
  d->prune_marked = !d->kids[depth - 1];
  if (!d->prune_marked) return 1;
  d->kids[depth - 1] = 1;
  n = strlen((const char *)local);
  lc_buf_addc(&d->tape, 'S'); /* its parent still has this child */
  put_u32(&d->tape, n);
  lc_buf_add(&d->tape, local, n);
  put_u32(&d->tape, 0);
  return 1;
}

static int prune_end(xdec *d) {
  if (d->prune) {
    d->depth--;
    if (--d->prune == 0 && d->prune_marked) lc_buf_addc(&d->tape, 'E');
    return 1;
  }
  if (d->depth == d->item_depth) d->item_depth = 0;
  return 0;
}

/* an event's bytes are counted first and reserved once: the pieces then go in by memcpy
 * without a capacity check each (this runs for every element of every answer) */
static char *put_raw(char *w, const void *p, size_t n) {
  uint32_t u = (uint32_t)n;
  memcpy(w, &u, 4);
  memcpy(w + 4, p, n);
  return w + 4 + n;
}

static void on_start(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
                     int nns, const xmlChar **ns, int nattr, int ndef, const xmlChar **attrs) {
  xdec *d = (xdec *)ud;
  int i;
  size_t ln, need;
  uint32_t na = (uint32_t)nattr;
  char *w;
  (void)prefix; (void)uri; (void)nns; (void)ns; (void)ndef;
  if (d->failed) return;
  if (++d->depth > d->max_depth) { fail(d, "xml: document nested too deeply"); return; }
  d->texted[d->depth >> 3] &= (unsigned char)~(1u << (d->depth & 7));
  if (d->prune_f && prune_start(d, local)) return;
  ln = strlen((const char *)local);
  need = 1 + 4 + ln + 4;
  for (i = 0; i < nattr; i++) need += 8 + strlen((const char *)attrs[5 * i]) + (size_t)(attrs[5 * i + 4] - attrs[5 * i + 3]);
  if (!lc_buf_reserve(&d->tape, need)) { fail(d, "xml: out of memory"); return; }
  w = d->tape.data + d->tape.len;
  *w++ = 'S';
  w = put_raw(w, local, ln);
  memcpy(w, &na, 4);
  w += 4;
  for (i = 0; i < nattr; i++) {
    const xmlChar **a = attrs + 5 * i;
    w = put_raw(w, a[0], strlen((const char *)a[0]));
    w = put_raw(w, a[3], (size_t)(a[4] - a[3]));
  }
  d->tape.len = (size_t)(w - d->tape.data);
}

static void on_end(void *ud, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri) {
  xdec *d = (xdec *)ud;
  (void)local; (void)prefix; (void)uri;
  if (d->failed) return;
  if (d->prune_f && prune_end(d)) return;
  d->depth--;
  lc_buf_addc(&d->tape, 'E');
}

static void on_chars(void *ud, const xmlChar *ch, int len) {
  xdec *d = (xdec *)ud;
  if (d->failed || d->depth == 0 || d->prune) return;
  if (!(d->texted[d->depth >> 3] & (1u << (d->depth & 7)))) {
    int i = 0;
    while (i < len && isspace(ch[i])) i++;
    if (i == len) return;
    d->texted[d->depth >> 3] |= (unsigned char)(1u << (d->depth & 7));
  }
  if (!lc_buf_reserve(&d->tape, 5 + (size_t)len)) { fail(d, "xml: out of memory"); return; }
  d->tape.data[d->tape.len] = 'T';
  d->tape.len = (size_t)(put_raw(d->tape.data + d->tape.len + 1, ch, (size_t)len) - d->tape.data);
}

static void on_subset(void *ud, const xmlChar *name, const xmlChar *eid, const xmlChar *sid) {
  (void)name; (void)eid; (void)sid;
  fail((xdec *)ud, "xml: DOCTYPE declarations are refused (no entities, no external DTD)");
}

static void on_error(void *ud, xmlErrorPtr e) {
  xdec *d = (xdec *)ud;
  if (d->failed || !e || e->level < XML_ERR_ERROR) return;
  d->failed = 1;
  d->code = e->code;
  snprintf(d->err, sizeof d->err, "xml: line %d: %s", e->line, e->message ? e->message : "parse error");
  /* libxml2 messages end with a newline */
  {
    size_t n = strlen(d->err);
    while (n && (d->err[n - 1] == '\n' || d->err[n - 1] == ' ')) d->err[--n] = 0;
  }
}

static xmlEntityPtr on_entity(void *ud, const xmlChar *name) {
  (void)ud;
  return xmlGetPredefinedEntity(name);
}

/* What a decode needs besides its input is kept per Lua state between calls:
 * the parser context (creating one costs more than parsing a small response)
 * and the buffers (tape, text, frames). A decode borrows them (busy) and gives
 * them back when it ends, also when a Lua error ended it: the parse and the
 * replay run under lua_pcall and the error is raised again after the give-back.
 * A decode started while they are borrowed (a finalizer that decodes, run by
 * the collector during a replay) uses its own and frees them. */
typedef struct xstate {
  xmlParserCtxtPtr ctxt;
  int uses, busy;
  lc_buf tape, text, scratch, item, frames;
  int hint[HINT_DEPTH]; /* the last decode's table sizes: a client decodes answers of few shapes */
} xstate;
/* its name dictionary only grows: start afresh now and then */
#define CTXT_MAX_USES 1000
/* a buffer grown larger than this by one big document is not kept */
#define KEEP_BUF (256 * 1024)

static const char state_key = 0;
#if LUA_VERSION_NUM < 502
static const char run_key = 0;
#endif

static void xdec_free(xdec *d) {
  if (d->ctxt) { xmlFreeParserCtxt(d->ctxt); d->ctxt = NULL; }
  lc_buf_free(&d->tape);
  lc_buf_free(&d->text);
  lc_buf_free(&d->scratch);
  lc_buf_free(&d->item);
  lc_buf_free(&d->frames);
}

static int xstate_gc(lua_State *L) {
  xstate *b = (xstate *)lua_touserdata(L, 1);
  if (b->ctxt) { xmlFreeParserCtxt(b->ctxt); b->ctxt = NULL; }
  lc_buf_free(&b->tape);
  lc_buf_free(&b->text);
  lc_buf_free(&b->scratch);
  lc_buf_free(&b->item);
  lc_buf_free(&b->frames);
  return 0;
}

/* this Lua state's xstate, made on first use; NULL when it is borrowed */
static xstate *borrow(lua_State *L, xdec *d) {
  xstate *b;
  LC_RAWGETP(L, LUA_REGISTRYINDEX, &state_key);
  b = (xstate *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!b) {
    b = (xstate *)lua_newuserdata(L, sizeof(xstate));
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, "luacloud.xml_decoder")) {
      lua_pushcfunction(L, xstate_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    LC_RAWSETP(L, LUA_REGISTRYINDEX, &state_key);
  }
  if (b->busy) return NULL;
  b->busy = 1;
  d->ctxt = b->ctxt; b->ctxt = NULL;
  d->tape = b->tape; d->text = b->text; d->scratch = b->scratch; d->item = b->item; d->frames = b->frames;
  lc_buf_init(&b->tape); lc_buf_init(&b->text); lc_buf_init(&b->scratch); lc_buf_init(&b->item); lc_buf_init(&b->frames);
  return b;
}

static void keep_buf(lc_buf *to, lc_buf *from) {
  if (from->oom || from->cap > KEEP_BUF) { lc_buf_free(from); lc_buf_init(to); return; }
  *to = *from;
  to->len = 0;
}

/* the end of a decode: what was borrowed goes back (the context only after a
 * parse that went well, and while its dictionary is small), the rest is freed */
static void give_back(xstate *b, xdec *d, int keep_ctxt) {
  if (!b) { xdec_free(d); return; }
  if (d->ctxt && keep_ctxt && ++b->uses <= CTXT_MAX_USES && !(d->ctxt->dict && xmlDictSize(d->ctxt->dict) > 4096)) {
    b->ctxt = d->ctxt;
  } else {
    if (d->ctxt) xmlFreeParserCtxt(d->ctxt);
    b->uses = 0;
  }
  d->ctxt = NULL;
  keep_buf(&b->tape, &d->tape);
  keep_buf(&b->text, &d->text);
  keep_buf(&b->scratch, &d->scratch);
  keep_buf(&b->item, &d->item);
  keep_buf(&b->frames, &d->frames);
  b->busy = 0;
}

/* ---- replay: Lua stack holds [name, value] per open element ---- */

typedef struct frame {
  int created;   /* value slot holds a table (else still nil: text-only so far) */
  int nkeys;     /* keys set in it so far */
  size_t text_off;
} frame;

typedef struct replay {
  lua_State *L;
  xdec *d;
  int lists, lower, base;  /* stack index of lists set (0 = none); base = first frame slot */
  int mt;                  /* stack index of the array metatable */
  frame *frames;
  int nframes, cap;
  int have_root;
  lc_filter *filt;             /* opts.filter: items (opts.items, a dotted path) are captured */
  const char *items;           /* whole and kept or dropped by src/filter.c, never replayed */
  size_t items_len;
  int fdepth;                  /* open elements of the item being captured (0: none) */
  const char *fstart;          /* its first event while all of it is in this chunk's tape, else NULL (copied) */
  lc_names names; /* opts.lists, read once */
  /* the key count of the last table closed at each depth: siblings are usually alike, so the
   * next one is made that size at once instead of growing key by key */
  int hint[HINT_DEPTH];
} replay;

/* whether the element name at stack index `nslot` is one of opts.lists */
static int listed_name(replay *r, int nslot) {
  size_t n;
  const char *k = lua_tolstring(r->L, nslot, &n);
  return lc_names_has(r->L, &r->names, nslot, k, n);
}

static uint32_t get_u32(const char **p) {
  uint32_t u;
  memcpy(&u, *p, 4);
  *p += 4;
  return u;
}

static void push_name(replay *r, const char *s, size_t n) {
  if (r->lower) {
    size_t i;
    lc_buf *sc = &r->d->scratch;
    sc->len = 0;
    if (!lc_buf_reserve(sc, n)) luaL_error(r->L, "xml: out of memory");
    for (i = 0; i < n; i++) sc->data[i] = (char)tolower((unsigned char)s[i]);
    lua_pushlstring(r->L, sc->data, n);
  } else {
    lua_pushlstring(r->L, s, n);
  }
}

static int slot_name(replay *r, int i) { return r->base + 2 * i; }

/* whether the table on the top of the stack is one of our arrays (the metatable is on the stack) */
static int top_is_array(replay *r) {
  int k;
  if (!lua_getmetatable(r->L, -1)) return 0;
  k = lua_rawequal(r->L, -1, r->mt);
  lua_pop(r->L, 1);
  return k;
}

static void ensure_table(replay *r, int i) {
  if (!r->frames[i].created) {
    lua_createtable(r->L, 0, i < HINT_DEPTH ? r->hint[i] : 0);
    lua_replace(r->L, slot_name(r, i) + 1);
    r->frames[i].created = 1;
  }
}

static void trim(const char **s, size_t *n) {
  const char *a = *s, *b = *s + *n;
  while (a < b && isspace((unsigned char)*a)) a++;
  while (b > a && isspace((unsigned char)b[-1])) b--;
  *s = a;
  *n = (size_t)(b - a);
}

static void trimmed(xdec *d, size_t off, const char **s, size_t *n) {
  if (!d->text.data) { *s = ""; *n = 0; return; } /* no text yet: NULL + 0 is undefined */
  *s = d->text.data + off;
  *n = d->text.len - off;
  trim(s, n);
}

static void close_with(replay *r, const char *ts, size_t tn);

static void close_frame(replay *r) {
  const char *ts;
  size_t tn;
  trimmed(r->d, r->frames[r->nframes - 1].text_off, &ts, &tn);
  close_with(r, ts, tn);
}

/* close the innermost element, whose text (trimmed) is ts */
static void close_with(replay *r, const char *ts, size_t tn) {
  lua_State *L = r->L;
  int i = r->nframes - 1, nslot = slot_name(r, i), vslot = nslot + 1;
  if (!r->frames[i].created) {
    lua_pushlstring(L, ts, tn);
    lua_replace(L, vslot);
  } else if (tn) {
    lua_pushlstring(L, ts, tn);
    lua_setfield(L, vslot, "_text");
  }
  r->d->text.len = r->frames[i].text_off;
  r->nframes--;
  if (i < HINT_DEPTH && r->frames[i].created) r->hint[i] = r->frames[i].nkeys < 64 ? r->frames[i].nkeys : 64;
  if (i == 0) { r->have_root = 1; return; } /* root stays on the stack */
  {
    int pslot = slot_name(r, i - 1) + 1, listed = r->lists ? listed_name(r, nslot) : 0;
    lua_pushvalue(L, nslot);
    lua_rawget(L, pslot);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      r->frames[i - 1].nkeys++;
      lua_pushvalue(L, nslot);
      if (listed) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, vslot);
        lua_rawseti(L, -2, 1);
        lua_pushvalue(L, r->mt);
        lua_setmetatable(L, -2);
      } else {
        lua_pushvalue(L, vslot);
      }
      lua_rawset(L, pslot);
    } else if (lua_type(L, -1) == LUA_TTABLE && top_is_array(r)) {
      lua_pushvalue(L, vslot);
      lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
      lua_pop(L, 1);
    } else {
      lua_createtable(L, 2, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      lua_pushvalue(L, vslot);
      lua_rawseti(L, -2, 2);
      lua_pushvalue(L, r->mt);
      lua_setmetatable(L, -2);
      lua_pushvalue(L, nslot);
      lua_insert(L, -2);
      lua_rawset(L, pslot);
    }
    lua_settop(L, nslot - 1);
  }
}

/* whether the element starting at p (its name's length) is at the items path */
static int at_items(replay *r, const char *p) {
  const char *c = r->items, *e = r->items + r->items_len;
  int i;
  for (i = 1; i <= r->nframes; i++) {
    const char *dot = memchr(c, '.', (size_t)(e - c)), *name;
    size_t cn = (size_t)((dot ? dot : e) - c), n, k;
    if (i < r->nframes) {
      name = lua_tolstring(r->L, slot_name(r, i), &n);
      if (!dot || n != cn || memcmp(name, c, n)) return 0;
    } else {
      uint32_t u;
      memcpy(&u, p, 4);
      name = p + 4;
      n = u;
      if (dot || n != cn) return 0;
      for (k = 0; k < n; k++)
        if ((r->lower ? (char)tolower((unsigned char)name[k]) : name[k]) != c[k]) return 0;
    }
    c = dot ? dot + 1 : e;
  }
  return r->nframes > 0 && c == e;
}

/* the whole item is captured: attach what the filter keeps, or keep an empty list */
static void filter_item(replay *r, const char *ev, size_t len) {
  lua_State *L = r->L;
  xdec *d = r->d;
  const char *q = ev + 1;
  uint32_t n = get_u32(&q);
  int m;
  push_name(r, q, n);
  m = lc_filter_xml_item(L, r->filt, ev, len, r->lower, r->lists);
  if (m < 0) luaL_error(L, "xml: out of memory");
  if (m == 0) {
    int pslot = slot_name(r, r->nframes - 1) + 1;
    lua_pushvalue(L, -1);
    lua_rawget(L, pslot);
    if (!lua_isnil(L, -1)) { lua_pop(L, 2); return; }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, r->mt);
    lua_setmetatable(L, -2);
    lua_rawset(L, pslot);
    return;
  }
  r->frames[r->nframes].created = 1;
  r->frames[r->nframes].nkeys = 0;
  r->frames[r->nframes].text_off = d->text.len;
  r->nframes++;
  close_frame(r);
}

/* one event of the item (p at its tag), copied once the item spans chunks; returns the next event */
static const char *capture(replay *r, const char *p) {
  const char *q = p + 1;
  if (*p == 'S') {
    uint32_t n = get_u32(&q), na, k;
    q += n;
    na = get_u32(&q);
    for (k = 0; k < na; k++) { n = get_u32(&q); q += n; n = get_u32(&q); q += n; }
    r->fdepth++;
  } else if (*p == 'T') {
    uint32_t n = get_u32(&q);
    q += n;
  } else {
    r->fdepth--;
  }
  if (!r->fstart && !lc_buf_add(&r->d->item, p, (size_t)(q - p))) luaL_error(r->L, "xml: out of memory");
  if (r->fdepth == 0) {
    if (r->fstart) filter_item(r, r->fstart, (size_t)(q - r->fstart));
    else filter_item(r, r->d->item.data, r->d->item.len);
  }
  return q;
}

static void replay_tape(replay *r) {
  lua_State *L = r->L;
  xdec *d = r->d;
  const char *p = d->tape.data, *end = d->tape.data + d->tape.len;
  while (p < end) {
    char ev;
    if (r->fdepth) { p = capture(r, p); continue; }
    ev = *p++;
    if (ev == 'S') {
      uint32_t n = get_u32(&p), na, k;
      if (r->have_root) luaL_error(L, "xml: content after the root element");
      if (r->nframes > 0) ensure_table(r, r->nframes - 1);
      if (r->nframes == r->cap) { /* C memory, given back or freed when the decode ends */
        int ncap = r->cap ? r->cap * 2 : 32;
        d->frames.len = sizeof(frame) * (size_t)r->nframes;
        if (!lc_buf_reserve(&d->frames, sizeof(frame) * (size_t)(ncap - r->nframes))) luaL_error(L, "xml: out of memory");
        r->frames = (frame *)(void *)d->frames.data;
        r->cap = (int)(d->frames.cap / sizeof(frame));
      }
      if (!lua_checkstack(L, 8)) luaL_error(L, "xml: document nested too deeply");
      if (r->filt && at_items(r, p - 4)) { d->item.len = 0; r->fstart = p - 5; p = capture(r, p - 5); continue; }
      push_name(r, p, n);
      p += n;
      lua_pushnil(L);
      r->frames[r->nframes].created = 0;
      r->frames[r->nframes].nkeys = 0;
      r->frames[r->nframes].text_off = d->text.len;
      r->nframes++;
      na = get_u32(&p);
      if (na) ensure_table(r, r->nframes - 1);
      for (k = 0; k < na; k++) {
        uint32_t kn = get_u32(&p);
        const char *ks = p;
        uint32_t vn;
        p += kn;
        vn = get_u32(&p);
        push_name(r, ks, kn);
        lua_pushlstring(L, p, vn);
        lua_rawset(L, -3);
        r->frames[r->nframes - 1].nkeys++;
        p += vn;
      }
    } else if (ev == 'T') {
      uint32_t n = get_u32(&p);
      if (p + n < end && p[n] == 'E' && r->nframes > 0 && d->text.len == r->frames[r->nframes - 1].text_off) {
        /* the element's one piece of text, then its end (a leaf, mostly): straight from the
         * tape, not through the text buffer */
        const char *ts = p;
        size_t tn = n;
        trim(&ts, &tn);
        close_with(r, ts, tn);
        p += n + 1;
        continue;
      }
      if (!lc_buf_add(&d->text, p, n)) luaL_error(L, "xml: out of memory");
      p += n;
    } else {
      close_frame(r);
    }
  }
  if (r->fdepth && r->fstart) { /* the item goes on in the next chunk: keep what is here */
    if (!lc_buf_add(&d->item, r->fstart, (size_t)(end - r->fstart))) luaL_error(L, "xml: out of memory");
    r->fstart = NULL;
  }
  d->tape.len = 0;
}

/* what decode_run needs from l_xml_decode */
typedef struct run {
  replay *r;
  const char *s;
  size_t n, off;
  int parse_only, noparser;
} run;

/* The parse and the replay, under lua_pcall: stack 1 lists (or nil), 2 the array metatable,
 * 3 the run; returns value, root name, or nothing when the parse failed (d->failed). */
static int decode_run(lua_State *L) {
  run *a = (run *)lua_touserdata(L, 3);
  replay *r = a->r;
  xdec *d = r->d;
  xmlSAXHandler sax;
  size_t n = a->n, off = 0;
  r->L = L;
  r->lists = lua_istable(L, 1) ? 1 : 0;
  if (r->lists) lc_names_read(L, r->lists, &r->names);
  r->mt = 2;
  r->base = 4;
  memset(&sax, 0, sizeof sax);
  sax.initialized = XML_SAX2_MAGIC;
  sax.internalSubset = on_subset;
  sax.getEntity = on_entity;
  sax.serror = on_error;
  if (!a->parse_only) {
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.cdataBlock = on_chars;
  }
  if (d->ctxt) {
    d->ctxt->userData = d; /* before the reset: it may report errors */
    if (xmlCtxtResetPush(d->ctxt, NULL, 0, NULL, NULL) != 0) { xmlFreeParserCtxt(d->ctxt); d->ctxt = NULL; }
  }
  if (!d->ctxt) d->ctxt = xmlCreatePushParserCtxt(&sax, d, NULL, 0, NULL);
  if (!d->ctxt) { a->noparser = 1; return 0; }
  /* NOENT makes libxml2 hand attribute values over with "&amp;" resolved
   * (else it keeps "&#38;"); safe because DOCTYPEs, hence entity
   * declarations, are refused: only the predefined entities exist */
  xmlCtxtUseOptions(d->ctxt, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOENT);
  do {
    size_t take = n - off > CHUNK ? CHUNK : n - off;
    int last = off + take == n;
    xmlParseChunk(d->ctxt, a->s + off, (int)take, last);
    off += take;
    if (d->tape.oom) fail(d, "xml: out of memory");
    if (d->failed) break;
    replay_tape(r); /* no libxml2 frame below: it may raise */
  } while (off < n);
  a->off = off;
  if (d->failed || a->parse_only || !r->have_root) return 0;
  lua_pushvalue(L, r->base + 1);
  lua_pushvalue(L, r->base);
  return 2;
}

/* xml_decode(s [, opts]) -> value, root_name | nil, msg */
static int l_xml_decode(lua_State *L) {
  size_t n, max_size = 64u << 20;
  const char *s = luaL_checklstring(L, 1, &n);
  xstate *b;
  xdec d;
  replay r;
  run a;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  memset(&a, 0, sizeof a);
  d.max_depth = 64;
  lua_settop(L, 2);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "lists"); /* 3 */
    lua_getfield(L, 2, "lower");
    r.lower = lua_toboolean(L, -1);
    d.max_depth = lc_opt_clamped(L, 2, "max_depth", 64, 0, 10000);
    lua_getfield(L, 2, "parse_only"); /* benchmarks: libxml2 alone, no callbacks */
    a.parse_only = lua_toboolean(L, -1);
    lua_getfield(L, 2, "max_size");
    if (lua_isnumber(L, -1)) {
      lua_Number m = lua_tonumber(L, -1);
      max_size = m != m || m < 0 ? 0 : m > 1e15 ? (size_t)1e15 : (size_t)m;
    }
    lua_getfield(L, 2, "filter"); /* kept alive by opts, as items */
    r.filt = lc_filter_test(L, -1);
    lua_getfield(L, 2, "items");
    if (lua_type(L, -1) == LUA_TSTRING) r.items = lua_tolstring(L, -1, &r.items_len); else r.filt = NULL;
    if (r.filt && lc_filter_projects(r.filt)) {
      d.prune_f = r.filt;
      d.items = r.items;
      d.items_len = r.items_len;
      d.lower = r.lower;
    }
    lua_settop(L, 3);
  } else {
    lua_pushnil(L); /* 3 */
  }
  if (n > max_size) return lc_pushfail(L, "xml: document of %d bytes exceeds the limit of %d", (int)n, (int)max_size);
  {
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i])) i++;
    if (i == n) return lc_pushfail(L, "xml: empty document");
  }
  r.d = &d;
  a.r = &r;
  a.s = s;
  a.n = n;
  /* parse_only (benchmarks) needs a context without callbacks: one of its own */
  b = a.parse_only ? NULL : borrow(L, &d);
  if (b) memcpy(r.hint, b->hint, sizeof r.hint);
#if LUA_VERSION_NUM >= 502
  lua_pushcfunction(L, decode_run);
#else
  LC_RAWGETP(L, LUA_REGISTRYINDEX, &run_key); /* a C closure made once per state (5.1 allocates one per push) */
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_pushcfunction(L, decode_run);
    lua_pushvalue(L, -1);
    LC_RAWSETP(L, LUA_REGISTRYINDEX, &run_key);
  }
#endif
  lua_pushvalue(L, 3);
  lc_push_array_mt(L);
  lua_pushlightuserdata(L, &a);
  if (lua_pcall(L, 3, 2, 0) != 0) { /* out of memory while replaying: give back, then raise */
    give_back(b, &d, 0);
    return lua_error(L);
  }
  if (a.noparser) { give_back(b, &d, 0); return lc_pushfail(L, "xml: cannot create a parser"); }
  if (a.parse_only && !d.failed) { give_back(b, &d, 0); lua_pushboolean(L, 1); return 1; }
  if (!d.failed && !r.have_root) {
    d.failed = 1;
    snprintf(d.err, sizeof d.err, "xml: %s", n ? "document is truncated" : "empty document");
  }
  if (d.failed && a.off >= n && d.depth > 0 && !r.have_root &&
      (d.code == XML_ERR_DOCUMENT_END || d.code == XML_ERR_TAG_NOT_FINISHED || d.code == XML_ERR_GT_REQUIRED || strstr(d.err, "Premature end")))
    snprintf(d.err, sizeof d.err, "xml: document is truncated (%d element(s) left open)", d.depth);
  if (d.failed) {
    give_back(b, &d, 0);
    lua_pushnil(L);
    lua_pushstring(L, d.err);
    return 2;
  }
  if (b) memcpy(b->hint, r.hint, sizeof r.hint);
  give_back(b, &d, 1);
  return 2;
}

/* ---- encoding ---- */

/* Escape text or an attribute value. Tabs, newlines and carriage returns
 * become character references where a parser would otherwise normalise them;
 * other control characters cannot be written in XML 1.0: returns 0. */
static int add_escaped(lc_buf *b, const char *s, size_t n, int attr) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '<': lc_buf_adds(b, "&lt;"); break;
      case '>': lc_buf_adds(b, "&gt;"); break;
      case '&': lc_buf_adds(b, "&amp;"); break;
      case '"': if (attr) lc_buf_adds(b, "&quot;"); else lc_buf_addc(b, (char)c); break;
      case '\r': lc_buf_adds(b, "&#13;"); break;
      case '\n': if (attr) lc_buf_adds(b, "&#10;"); else lc_buf_addc(b, (char)c); break;
      case '\t': if (attr) lc_buf_adds(b, "&#9;"); else lc_buf_addc(b, (char)c); break;
      default:
        if (c < 0x20) return 0;
        lc_buf_addc(b, (char)c);
    }
  }
  return 1;
}

static void add_text(lua_State *L, lc_buf *b, const char *s, size_t n, int attr) {
  if (!add_escaped(b, s, n, attr)) luaL_error(L, "xml_encode: control characters cannot be written in XML");
}

/* One code point of the UTF-8 at *pp (advanced past it), or -1 if ill-formed. */
static long next_cp(const unsigned char **pp) {
  const unsigned char *p = *pp;
  long c = p[0];
  int n, i;
  if (c < 0x80) { *pp = p + 1; return c; }
  if (c >= 0xC2 && c <= 0xDF) { n = 1; c &= 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 2; c &= 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 3; c &= 0x07; }
  else return -1;
  for (i = 1; i <= n; i++) { /* a NUL ends the loop here: never read past it */
    if ((p[i] & 0xC0) != 0x80) return -1;
    c = (c << 6) | (p[i] & 0x3F);
  }
  if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF)) return -1;
  *pp = p + n + 1;
  return c;
}

/* XML 1.0 (5th edition) NameStartChar and NameChar, without ':' (QNames, below). */
static int xml_start(long c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
         (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) ||
         (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
         (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

static int xml_char(long c) {
  return xml_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xB7 ||
         (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

/* XML names as XML 1.0 defines them (UTF-8 decoded: a private-use character
 * such as U+F156 is not one), with at most one ':' between a prefix and a
 * local name, as a namespace-aware parser (ours) requires of a QName. */
static const char *check_name(lua_State *L, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  int ok = 1, first = 1, colons = 0;
  while (ok && *p) {
    long c;
    if (*p == ':') { ok = !first && ++colons == 1; first = 1; p++; continue; }
    c = next_cp(&p);
    ok = c >= 0 && (first ? xml_start(c) : xml_char(c));
    first = 0;
  }
  if (!ok || first) luaL_error(L, "xml_encode: '%s' is not a valid element or attribute name", s);
  return s;
}

static int is_sequence(lua_State *L, int idx) {
  size_t n;
  if (lc_is_array(L, idx)) return 1;
  n = lua_rawlen(L, idx);
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TNUMBER) { lua_pop(L, 2); return 0; }
    lua_pop(L, 1);
  }
  return 1;
}

/* The text of a scalar, pushed on the stack (the caller pops it). */
static const char *scalar(lua_State *L, int idx, size_t *n) {
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: case LUA_TNUMBER: case LUA_TSTRING:
      lc_push_scalar_text(L, idx);
      return lua_tolstring(L, -1, n);
    default:
      if (lua_touserdata(L, idx) == LC_NULL) { *n = 0; lua_pushliteral(L, ""); return ""; }
      luaL_error(L, "xml_encode: cannot encode a %s", luaL_typename(L, idx));
      return NULL;
  }
}

static void encode_elem(lua_State *L, lc_buf *b, int order, const char *name, int v, int depth, const char *ns);

/* Pushes the string keys of table t in write order: those listed in order[name] first, then the
 * rest sorted (the same table always gives the same bytes). Children skip _attr/_text. Returns
 * the number of keys; the key array is on the top of the stack. */
static int ordered_keys(lua_State *L, int order, const char *name, int t, int children) {
  int keys, i, nkeys = 0, first_rest;
  lua_newtable(L);
  keys = lua_gettop(L);
  if (order) {
    lua_getfield(L, order, name);
    if (lua_istable(L, -1)) {
      int n = (int)lua_rawlen(L, -1);
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "xml_encode: order entries must be strings");
        lua_rawseti(L, keys, ++nkeys);
      }
    }
    lua_pop(L, 1);
  }
  first_rest = nkeys + 1;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      int listed = 0;
      if (children && k[0] == '_' && (!strcmp(k, "_attr") || !strcmp(k, "_text"))) continue;
      for (i = 1; i < first_rest && !listed; i++) {
        lua_rawgeti(L, keys, i);
        listed = lua_rawequal(L, -1, -2);
        lua_pop(L, 1);
      }
      if (!listed) { lua_pushvalue(L, -1); lua_rawseti(L, keys, ++nkeys); }
    } else if (!children) {
      luaL_error(L, "xml_encode: attribute names must be strings");
    }
  }
  /* insertion sort of the rest: key lists are short */
  for (i = first_rest + 1; i <= nkeys; i++) {
    int j = i;
    while (j > first_rest) {
      int lt;
      lua_rawgeti(L, keys, j);
      lua_rawgeti(L, keys, j - 1);
      lt = strcmp(lua_tostring(L, -2), lua_tostring(L, -1)) < 0;
      if (!lt) { lua_pop(L, 2); break; }
      lua_rawseti(L, keys, j);
      lua_rawseti(L, keys, j - 1);
      j--;
    }
  }
  return nkeys;
}

static void encode_children(lua_State *L, lc_buf *b, int order, const char *name, int t, int depth) {
  int i, keys, nkeys = ordered_keys(L, order, name, t, 1);
  keys = lua_gettop(L);
  for (i = 1; i <= nkeys; i++) {
    lua_rawgeti(L, keys, i);
    lua_pushvalue(L, -1);
    lua_rawget(L, t);
    if (!lua_isnil(L, -1)) encode_elem(L, b, order, lua_tostring(L, -2), lua_gettop(L), depth + 1, NULL);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

/* The attributes of an element, in the order of its order entry, then sorted. */
static void encode_attrs(lua_State *L, lc_buf *b, int order, const char *name, int a) {
  int i, keys, nkeys = ordered_keys(L, order, name, a, 0);
  size_t n;
  const char *s;
  keys = lua_gettop(L);
  for (i = 1; i <= nkeys; i++) {
    lua_rawgeti(L, keys, i);
    lua_pushvalue(L, -1);
    lua_rawget(L, a);
    if (!lua_isnil(L, -1)) {
      lc_buf_addc(b, ' ');
      s = check_name(L, lua_tostring(L, -2));
      lc_buf_add(b, s, strlen(s));
      lc_buf_adds(b, "=\"");
      s = scalar(L, -1, &n);
      add_text(L, b, s, n, 1);
      lc_buf_addc(b, '"');
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

static void encode_elem(lua_State *L, lc_buf *b, int order, const char *name, int v, int depth, const char *ns) {
  size_t n;
  const char *s;
  if (depth > 64) luaL_error(L, "xml_encode: table nested too deeply (cycle?)");
  luaL_checkstack(L, 10, "xml_encode");
  if (lua_type(L, v) == LUA_TTABLE && is_sequence(L, v)) {
    int i, len = (int)lua_rawlen(L, v);
    for (i = 1; i <= len; i++) {
      lua_rawgeti(L, v, i);
      encode_elem(L, b, order, name, lua_gettop(L), depth + 1, ns);
      lua_pop(L, 1);
    }
    return;
  }
  check_name(L, name);
  lc_buf_addc(b, '<');
  lc_buf_add(b, name, strlen(name));
  if (ns) {
    lc_buf_adds(b, " xmlns=\"");
    add_text(L, b, ns, strlen(ns), 1);
    lc_buf_addc(b, '"');
  }
  if (lua_type(L, v) != LUA_TTABLE) {
    s = scalar(L, v, &n);
    lc_buf_addc(b, '>');
    add_text(L, b, s, n, 0);
    lua_pop(L, 1);
  } else {
    lua_getfield(L, v, "_attr");
    if (lua_istable(L, -1)) encode_attrs(L, b, order, name, lua_gettop(L));
    lua_pop(L, 1);
    {
      size_t mark = b->len;
      lc_buf_addc(b, '>');
      lua_getfield(L, v, "_text");
      if (!lua_isnil(L, -1)) { s = scalar(L, -1, &n); add_text(L, b, s, n, 0); lua_pop(L, 1); }
      lua_pop(L, 1);
      encode_children(L, b, order, name, v, depth);
      /* nothing inside: self-closing, as the API documents print such elements (<NewBackup a=".."/>) */
      if (!b->oom && b->len == mark + 1) {
        b->len = mark;
        lc_buf_adds(b, "/>");
        if (b->oom) luaL_error(L, "xml_encode: out of memory");
        return;
      }
    }
  }
  lc_buf_adds(b, "</");
  lc_buf_add(b, name, strlen(name));
  lc_buf_addc(b, '>');
  if (b->oom) luaL_error(L, "xml_encode: out of memory");
}

/* xml_encode(root, tbl [, opts]) */
static int l_xml_encode(lua_State *L) {
  const char *root = luaL_checkstring(L, 1), *ns = NULL;
  int order = 0, decl = 1;
  lc_buf *b;
  lua_settop(L, 3);
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "ns");
    ns = lua_tostring(L, -1);
    lua_getfield(L, 3, "order");
    if (lua_istable(L, -1)) order = lua_gettop(L);
    lua_getfield(L, 3, "decl");
    if (lua_type(L, -1) == LUA_TBOOLEAN) decl = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  b = lc_newbox(L);
  if (decl) lc_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  if (lua_isnil(L, 2)) {
    lc_buf_addc(b, '<');
    lc_buf_add(b, root, strlen(root));
    check_name(L, root);
    if (ns) { lc_buf_adds(b, " xmlns=\""); add_text(L, b, ns, strlen(ns), 1); lc_buf_addc(b, '"'); }
    lc_buf_adds(b, "/>");
  } else {
    encode_elem(L, b, order, root, 2, 0, ns);
  }
  if (b->oom) return luaL_error(L, "xml_encode: out of memory");
  lua_pushlstring(L, b->data, b->len);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"xml_decode", l_xml_decode},
  {"xml_encode", l_xml_encode},
  {NULL, NULL}
};

void lc_open_xml(lua_State *L) {
  xmlInitParser();
  luaL_setfuncs(L, funcs, 0);
}
