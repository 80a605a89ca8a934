/* Item filters: a predicate (where) and a projection (fields) compiled once
 * from Lua tables into a userdata, then evaluated per item of a listing:
 * - on the XML decoder's event tape (lc_filter_xml_item): an item that does
 *   not match never becomes a Lua table, unprojected fields are never copied;
 * - on decoded Lua values (JSON items, providers that decode on their own).
 * The semantics are docs/FILTERING.md; spec/filter_property_spec.lua holds a
 * plain-Lua reference that both paths must agree with.
 *
 * A path yields every value found by walking it, fanning out over arrays; a
 * condition holds when any of those values satisfies it (exists: when there is
 * one). not/ne negate the whole condition. XML text compares with numbers when
 * it reads as a decimal number, with booleans when it is "true" or "false". */
#include <string.h>
#include <stdlib.h>
#include <stdint.h>
#include <ctype.h>
#include "lc.h"

enum { N_AND, N_OR, N_NOT, N_LEAF };
enum { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE, OP_GLOB, OP_PREFIX, OP_EXISTS };
enum { V_STR, V_NUM, V_BOOL, V_NULL, V_TABLE, V_NONE };

typedef struct fval {
  int type, numeric, b; /* numeric: a V_STR that reads as a number (then d holds it) */
  const char *s;
  size_t n;
  double d;
} fval;

typedef struct fpath { int ncomp; const char **comp; size_t *len; } fpath;
typedef struct fleaf { int path, op, nvals; fval *vals; } fleaf;
typedef struct fnode { int kind, a, n; } fnode; /* leaf index, or kids[a .. a+n-1] */
typedef struct tnode { const char *name; size_t len; int child, next, all; } tnode;

typedef struct blk { struct blk *next; } blk;

struct lc_filter {
  blk *arena;
  fpath *paths; int npaths, cpaths;
  fleaf *leaves; int nleaves, cleaves;
  fnode *nodes; int nnodes, cnodes;
  int *kids; int nkids, ckids;
  tnode *trie; int ntrie, ctrie; /* trie[0]: the item; none when ntrie == 0 */
  int root;                      /* predicate node, -1 = every item */
  unsigned char *hits;           /* per leaf, while one item is evaluated */
  lc_buf text;                   /* element text while building an XML item */
  lc_buf key;                    /* a lowered name */
  char err[160];
};
/* the lc_filter typedef is lc.h's: a second one is C11 only (clang -Wtypedef-redefinition) */

#define FILTER_MT "luacloud.filter"
#define MAX_DEPTH 32

/* ---- memory: everything is owned by the userdata, freed by __gc ---- */

static void *falloc(lc_filter *f, size_t n) {
  blk *b = (blk *)malloc(sizeof(blk) + n + 1);
  if (!b) return NULL;
  b->next = f->arena;
  f->arena = b;
  return (char *)(b + 1);
}

static int grow(void **arr, int *cap, int need, size_t elem) {
  void *n;
  int c;
  if (need <= *cap) return 1;
  c = *cap ? *cap * 2 : 8;
  while (c < need) c *= 2;
  n = realloc(*arr, (size_t)c * elem);
  if (!n) return 0;
  *arr = n;
  *cap = c;
  return 1;
}

static int filter_gc(lua_State *L) {
  lc_filter *f = (lc_filter *)luaL_checkudata(L, 1, FILTER_MT);
  while (f->arena) { blk *n = f->arena->next; free(f->arena); f->arena = n; }
  free(f->paths); free(f->leaves); free(f->nodes); free(f->kids); free(f->trie); free(f->hits);
  f->paths = NULL; f->leaves = NULL; f->nodes = NULL; f->kids = NULL; f->trie = NULL; f->hits = NULL;
  lc_buf_free(&f->text);
  lc_buf_free(&f->key);
  return 0;
}

/* ---- values ---- */

/* A decimal number's text (optional sign, digits, fraction, exponent): the
 * only text that compares with numbers. No hex, inf, nan or spaces. */
static int numeric_text(const char *s, size_t n, double *out) {
  size_t i = 0, digits = 0;
  char buf[64];
  if (n == 0 || n >= sizeof buf) return 0;
  if (s[i] == '-' || s[i] == '+') i++;
  while (i < n && isdigit((unsigned char)s[i])) { i++; digits++; }
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && isdigit((unsigned char)s[i])) { i++; digits++; }
  }
  if (!digits) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = 0;
    i++;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    while (i < n && isdigit((unsigned char)s[i])) { i++; e++; }
    if (!e) return 0;
  }
  if (i != n) return 0;
  memcpy(buf, s, n);
  buf[n] = 0;
  *out = strtod(buf, NULL);
  return 1;
}

static void str_val(fval *v, const char *s, size_t n) {
  v->type = V_STR;
  v->s = s;
  v->n = n;
  v->numeric = numeric_text(s, n, &v->d);
}

/* the value at idx as an fval (strings point into Lua: valid while it is on the stack) */
static void lua_val(lua_State *L, int idx, fval *v) {
  memset(v, 0, sizeof *v);
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: { size_t n; const char *s = lua_tolstring(L, idx, &n); str_val(v, s, n); break; }
    case LUA_TNUMBER: v->type = V_NUM; v->d = (double)lua_tonumber(L, idx); break;
    case LUA_TBOOLEAN: v->type = V_BOOL; v->b = lua_toboolean(L, idx); break;
    case LUA_TTABLE: v->type = V_TABLE; break;
    case LUA_TLIGHTUSERDATA: v->type = lua_touserdata(L, idx) == LC_NULL ? V_NULL : V_NONE; break;
    default: v->type = V_NONE;
  }
}

static int text_bool(const fval *s, int b) {
  return b ? s->n == 4 && !memcmp(s->s, "true", 4) : s->n == 5 && !memcmp(s->s, "false", 5);
}

static int val_eq(const fval *a, const fval *x) {
  if (a->type == V_TABLE || a->type == V_NONE) return 0;
  if (a->type == x->type) {
    switch (a->type) {
      case V_STR: return a->n == x->n && !memcmp(a->s, x->s, a->n);
      case V_NUM: return a->d == x->d;
      case V_BOOL: return a->b == x->b;
      default: return 1; /* null */
    }
  }
  if (a->type == V_STR && x->type == V_NUM) return a->numeric && a->d == x->d;
  if (a->type == V_NUM && x->type == V_STR) return x->numeric && x->d == a->d;
  if (a->type == V_STR && x->type == V_BOOL) return text_bool(a, x->b);
  if (a->type == V_BOOL && x->type == V_STR) return text_bool(x, a->b);
  return 0;
}

/* -1, 0, 1, or 2 when the two do not compare (a string with a number that is not one) */
static int val_cmp(const fval *a, const fval *x) {
  if (x->type == V_NUM) {
    double d;
    if (a->type == V_NUM) d = a->d;
    else if (a->type == V_STR && a->numeric) d = a->d;
    else return 2;
    return d < x->d ? -1 : d > x->d ? 1 : d == x->d ? 0 : 2;
  }
  if (x->type == V_STR && a->type == V_STR) {
    size_t m = a->n < x->n ? a->n : x->n;
    int c = memcmp(a->s, x->s, m);
    if (c) return c < 0 ? -1 : 1;
    return a->n < x->n ? -1 : a->n > x->n ? 1 : 0;
  }
  return 2;
}

static int glob(const char *p, size_t pn, const char *s, size_t sn) {
  size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
  while (si < sn) {
    if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) { pi++; si++; }
    else if (pi < pn && p[pi] == '*') { star_p = pi++; star_s = si; }
    else if (star_p != (size_t)-1) { pi = star_p + 1; si = ++star_s; }
    else return 0;
  }
  while (pi < pn && p[pi] == '*') pi++;
  return pi == pn;
}

static int leaf_test(const fleaf *l, const fval *v) {
  int i;
  if (l->op == OP_EXISTS) return 1;
  for (i = 0; i < l->nvals; i++) {
    const fval *x = &l->vals[i];
    int c;
    switch (l->op) {
      case OP_EQ: if (val_eq(v, x)) return 1; break;
      case OP_GLOB: if (v->type == V_STR && glob(x->s, x->n, v->s, v->n)) return 1; break;
      case OP_PREFIX: if (v->type == V_STR && v->n >= x->n && !memcmp(v->s, x->s, x->n)) return 1; break;
      default:
        c = val_cmp(v, x);
        if (c != 2 && ((l->op == OP_LT && c < 0) || (l->op == OP_LE && c <= 0) ||
                       (l->op == OP_GT && c > 0) || (l->op == OP_GE && c >= 0))) return 1;
    }
  }
  return 0;
}

static int eval_node(const lc_filter *f, int i) {
  const fnode *n = &f->nodes[i];
  int k;
  switch (n->kind) {
    case N_LEAF: return f->hits[n->a];
    case N_NOT: return !eval_node(f, f->kids[n->a]);
    case N_AND: for (k = 0; k < n->n; k++) if (!eval_node(f, f->kids[n->a + k])) return 0; return 1;
    default: for (k = 0; k < n->n; k++) if (eval_node(f, f->kids[n->a + k])) return 1; return 0;
  }
}

/* ---- compiling ---- */

static int cfail(lc_filter *f, const char *fmt, const char *what) {
  if (!f->err[0]) snprintf(f->err, sizeof f->err, fmt, what);
  return -1;
}

static const char *copy_str(lc_filter *f, const char *s, size_t n) {
  char *c = (char *)falloc(f, n);
  if (!c) return NULL;
  memcpy(c, s, n);
  c[n] = 0;
  return c;
}

/* a dotted path -> index in f->paths */
static int add_path(lc_filter *f, const char *s, size_t n) {
  fpath *p;
  int nc = 1, i = 0;
  size_t k, start = 0;
  if (n == 0) return cfail(f, "filter: empty field path%s", "");
  for (k = 0; k < n; k++) if (s[k] == '.') nc++;
  if (nc > MAX_DEPTH) return cfail(f, "filter: field path '%s' is too deep", s);
  if (!grow((void **)&f->paths, &f->cpaths, f->npaths + 1, sizeof(fpath))) return cfail(f, "filter: out of memory%s", "");
  p = &f->paths[f->npaths];
  p->ncomp = nc;
  p->comp = (const char **)falloc(f, sizeof(char *) * (size_t)nc);
  p->len = (size_t *)falloc(f, sizeof(size_t) * (size_t)nc);
  if (!p->comp || !p->len) return cfail(f, "filter: out of memory%s", "");
  for (k = 0; k <= n; k++) {
    if (k == n || s[k] == '.') {
      if (k == start) return cfail(f, "filter: field path '%s' has an empty component", s);
      p->comp[i] = copy_str(f, s + start, k - start);
      if (!p->comp[i]) return cfail(f, "filter: out of memory%s", "");
      p->len[i++] = k - start;
      start = k + 1;
    }
  }
  return f->npaths++;
}

static int add_node(lc_filter *f, int kind, int a, int n) {
  if (!grow((void **)&f->nodes, &f->cnodes, f->nnodes + 1, sizeof(fnode))) return cfail(f, "filter: out of memory%s", "");
  f->nodes[f->nnodes].kind = kind;
  f->nodes[f->nnodes].a = a;
  f->nodes[f->nnodes].n = n;
  return f->nnodes++;
}

/* a group of child nodes (already compiled, in tmp[0..n-1]) */
static int add_group(lc_filter *f, int kind, const int *tmp, int n) {
  int i, a = f->nkids;
  if (!grow((void **)&f->kids, &f->ckids, f->nkids + n + 1, sizeof(int))) return cfail(f, "filter: out of memory%s", "");
  for (i = 0; i < n; i++) f->kids[f->nkids++] = tmp[i];
  return add_node(f, kind, a, n);
}

static int operand(lua_State *L, lc_filter *f, int idx, fval *v) {
  lua_val(L, idx, v);
  if (v->type == V_STR) {
    v->s = copy_str(f, v->s, v->n);
    if (!v->s) return cfail(f, "filter: out of memory%s", "");
  } else if (v->type == V_TABLE || v->type == V_NONE) {
    return cfail(f, "filter: a comparison value must be a string, number, boolean or core.null, got %s", luaL_typename(L, idx));
  }
  return 0;
}

/* leaf on `path` with the operand(s) at idx: a scalar, or a list of them for `in` */
static int add_leaf(lua_State *L, lc_filter *f, int path, int op, int idx, int list) {
  fleaf *l;
  int n = 1, i;
  if (op == OP_EXISTS) n = 0;
  else if (list) {
    if (lua_type(L, idx) != LUA_TTABLE) return cfail(f, "filter: 'in' takes a list of values%s", "");
    n = (int)lua_rawlen(L, idx);
  }
  if (!grow((void **)&f->leaves, &f->cleaves, f->nleaves + 1, sizeof(fleaf))) return cfail(f, "filter: out of memory%s", "");
  l = &f->leaves[f->nleaves];
  l->path = path;
  l->op = op;
  l->nvals = n;
  l->vals = n ? (fval *)falloc(f, sizeof(fval) * (size_t)n) : NULL;
  if (n && !l->vals) return cfail(f, "filter: out of memory%s", "");
  for (i = 0; i < n; i++) {
    int bad;
    if (list) lua_rawgeti(L, idx, i + 1); else lua_pushvalue(L, idx);
    bad = operand(L, f, -1, &f->leaves[f->nleaves].vals[i]);
    lua_pop(L, 1);
    if (bad) return -1;
    if ((op == OP_GLOB || op == OP_PREFIX) && f->leaves[f->nleaves].vals[i].type != V_STR)
      return cfail(f, "filter: glob and prefix take a string%s", "");
  }
  return add_node(f, N_LEAF, f->nleaves++, 0);
}

static int compile_pred(lua_State *L, lc_filter *f, int idx, int depth);

static const struct { const char *name; int op; } OPS[] = {
  {"eq", OP_EQ}, {"in", OP_EQ}, {"lt", OP_LT}, {"le", OP_LE}, {"gt", OP_GT}, {"ge", OP_GE},
  {"glob", OP_GLOB}, {"prefix", OP_PREFIX}, {"exists", OP_EXISTS}, {"ne", -1}, {"not", -2}, {NULL, 0}
};

/* the condition at idx on field `path`: a scalar (equals), a list (in), or a table of operators */
static int compile_cond(lua_State *L, lc_filter *f, int path, int idx, int depth) {
  int tmp[16], n = 0, k;
  if (depth > MAX_DEPTH) return cfail(f, "filter: condition nested too deeply%s", "");
  if (lua_type(L, idx) != LUA_TTABLE) return add_leaf(L, f, path, OP_EQ, idx, 0);
  if (lua_rawlen(L, idx) > 0) return add_leaf(L, f, path, OP_EQ, idx, 1);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k_s = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int op = -99, node, v = lua_gettop(L);
    for (k = 0; k_s && OPS[k].name; k++) if (!strcmp(OPS[k].name, k_s)) op = OPS[k].op;
    if (op == -99) { lua_pop(L, 2); return cfail(f, "filter: unknown operator '%s' (eq in ne not lt le gt ge glob prefix exists)", k_s ? k_s : "?"); }
    if (n == 16) { lua_pop(L, 2); return cfail(f, "filter: more than 16 operators on one field%s", ""); }
    if (op == -1 && lua_type(L, v) == LUA_TTABLE && lua_rawlen(L, v) == 0) {
      lua_pop(L, 2);
      return cfail(f, "filter: ne takes a value or a list of values%s", "");
    }
    if (op == -1 || op == -2) {
      int inner = op == -1 ? add_leaf(L, f, path, OP_EQ, v, lua_type(L, v) == LUA_TTABLE) : compile_cond(L, f, path, v, depth + 1);
      node = inner < 0 ? -1 : add_group(f, N_NOT, &inner, 1);
    } else if (op == OP_EXISTS) {
      node = add_leaf(L, f, path, OP_EXISTS, v, 0);
      if (node >= 0 && !lua_toboolean(L, v)) node = add_group(f, N_NOT, &node, 1);
    } else {
      node = add_leaf(L, f, path, op, v, !strcmp(k_s, "in"));
    }
    lua_pop(L, 1);
    if (node < 0) { lua_pop(L, 1); return -1; }
    tmp[n++] = node;
  }
  if (n == 0) return cfail(f, "filter: an empty condition table%s", "");
  return n == 1 ? tmp[0] : add_group(f, N_AND, tmp, n);
}

/* a predicate table: { path = cond, ... } ANDed, plus { "or"|"and"|"not", P, ... } */
static int compile_pred(lua_State *L, lc_filter *f, int idx, int depth) {
  int *tmp, n = 0, cap, node = -1, len, i, comb = -1;
  if (lua_type(L, idx) != LUA_TTABLE) return cfail(f, "filter: where must be a table, got %s", luaL_typename(L, idx));
  if (depth > MAX_DEPTH || !lua_checkstack(L, 8)) return cfail(f, "filter: predicate nested too deeply%s", "");
  len = (int)lua_rawlen(L, idx);
  cap = len + 64;
  lua_rawgeti(L, idx, 1);
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *c = lua_tostring(L, -1);
    comb = !strcmp(c, "or") ? N_OR : !strcmp(c, "and") ? N_AND : !strcmp(c, "not") ? N_NOT : -2;
    if (comb == -2) { lua_pop(L, 1); return cfail(f, "filter: unknown combinator '%s' (or, and, not)", c); }
  }
  lua_pop(L, 1);
  tmp = (int *)falloc(f, sizeof(int) * (size_t)cap);
  if (!tmp) return cfail(f, "filter: out of memory%s", "");
  /* the combinator's operands */
  if (len > 0) {
    int sub[64], ns = 0;
    for (i = comb >= 0 ? 2 : 1; i <= len; i++) {
      int r;
      if (ns == 64) return cfail(f, "filter: more than 64 operands%s", "");
      lua_rawgeti(L, idx, i);
      r = compile_pred(L, f, lua_gettop(L), depth + 1);
      lua_pop(L, 1);
      if (r < 0) return -1;
      sub[ns++] = r;
    }
    if (comb == N_NOT && ns != 1) return cfail(f, "filter: 'not' takes one predicate%s", "");
    if (comb == N_NOT) node = add_group(f, N_NOT, sub, 1);
    else node = add_group(f, comb == N_OR ? N_OR : N_AND, sub, ns);
    if (node < 0) return -1;
    tmp[n++] = node;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      size_t kn;
      const char *k = lua_tolstring(L, -2, &kn);
      int path = add_path(f, k, kn), r;
      if (path < 0) { lua_pop(L, 2); return -1; }
      r = compile_cond(L, f, path, lua_gettop(L), depth + 1);
      if (r < 0) { lua_pop(L, 2); return -1; }
      if (n == cap) { lua_pop(L, 2); return cfail(f, "filter: too many fields%s", ""); }
      tmp[n++] = r;
    } else if (lua_type(L, -2) != LUA_TNUMBER) {
      lua_pop(L, 2);
      return cfail(f, "filter: where keys must be field paths (strings)%s", "");
    }
    lua_pop(L, 1);
  }
  if (n == 0) return add_group(f, N_AND, tmp, 0); /* {}: every item */
  return n == 1 ? tmp[0] : add_group(f, N_AND, tmp, n);
}

static int trie_find(const lc_filter *f, int node, const char *s, size_t n, int lower) {
  int c;
  for (c = f->trie[node].child; c; c = f->trie[c].next) {
    const tnode *t = &f->trie[c];
    size_t i;
    if (t->len != n) continue;
    if (!lower) { if (!memcmp(t->name, s, n)) return c; continue; }
    for (i = 0; i < n && t->name[i] == (char)tolower((unsigned char)s[i]); i++) {}
    if (i == n) return c;
  }
  return 0;
}

static int add_field(lc_filter *f, const char *s, size_t n) {
  int p = add_path(f, s, n), node = 0, i;
  if (p < 0) return -1;
  if (f->ntrie == 0) {
    if (!grow((void **)&f->trie, &f->ctrie, 1, sizeof(tnode))) return cfail(f, "filter: out of memory%s", "");
    memset(&f->trie[0], 0, sizeof(tnode));
    f->ntrie = 1;
  }
  for (i = 0; i < f->paths[p].ncomp; i++) {
    int c = trie_find(f, node, f->paths[p].comp[i], f->paths[p].len[i], 0);
    if (f->trie[node].all) return 0; /* a shorter path keeps the whole subtree */
    if (!c) {
      if (!grow((void **)&f->trie, &f->ctrie, f->ntrie + 1, sizeof(tnode))) return cfail(f, "filter: out of memory%s", "");
      c = f->ntrie++;
      f->trie[c].name = f->paths[p].comp[i];
      f->trie[c].len = f->paths[p].len[i];
      f->trie[c].child = 0;
      f->trie[c].all = 0;
      f->trie[c].next = f->trie[node].child;
      f->trie[node].child = c;
    }
    node = c;
  }
  f->trie[node].all = 1;
  return 0;
}

/* filter(where [, fields]) -> filter | nil, msg */
static int l_filter(lua_State *L) {
  lc_filter *f;
  lua_settop(L, 2);
  f = (lc_filter *)lua_newuserdata(L, sizeof(lc_filter)); /* 3 */
  memset(f, 0, sizeof *f);
  f->root = -1;
  luaL_getmetatable(L, FILTER_MT);
  lua_setmetatable(L, 3);
  if (!lua_isnil(L, 1)) {
    f->root = compile_pred(L, f, 1, 0);
    if (f->root < 0) return lc_pushfail(L, "%s", f->err[0] ? f->err : "filter: invalid where");
  }
  if (!lua_isnil(L, 2)) {
    int i, n;
    if (lua_type(L, 2) != LUA_TTABLE) return lc_pushfail(L, "filter: fields must be a list of field paths, got %s", luaL_typename(L, 2));
    n = (int)lua_rawlen(L, 2);
    if (n == 0) return lc_pushfail(L, "filter: fields is an empty list");
    for (i = 1; i <= n; i++) {
      size_t kn;
      const char *k;
      lua_rawgeti(L, 2, i);
      if (lua_type(L, -1) != LUA_TSTRING) return lc_pushfail(L, "filter: fields[%d] must be a string", i);
      k = lua_tolstring(L, -1, &kn);
      if (add_field(f, k, kn) < 0) return lc_pushfail(L, "%s", f->err);
      lua_pop(L, 1);
    }
  }
  if (f->nleaves && !(f->hits = (unsigned char *)malloc((size_t)f->nleaves))) return lc_pushfail(L, "filter: out of memory");
  lua_settop(L, 3);
  return 1;
}

lc_filter *lc_filter_test(lua_State *L, int idx) {
  lc_filter *f = (lc_filter *)lua_touserdata(L, idx);
  if (!f || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, FILTER_MT);
  if (!lua_rawequal(L, -1, -2)) f = NULL;
  lua_pop(L, 2);
  return f;
}

/* ---- evaluation on Lua values ---- */

static void walk(lua_State *L, lc_filter *f, const fleaf *l, const fpath *p, int i, int depth) {
  int v = lua_gettop(L);
  if (depth > MAX_DEPTH * 2 || f->hits[l - f->leaves]) return;
  if (lua_type(L, v) == LUA_TTABLE && lc_is_array(L, v)) {
    int k, n = (int)lua_rawlen(L, v);
    if (!lua_checkstack(L, 4)) return;
    for (k = 1; k <= n; k++) {
      lua_rawgeti(L, v, k);
      walk(L, f, l, p, i, depth + 1);
      lua_settop(L, v);
    }
    return;
  }
  if (i == p->ncomp) {
    fval x;
    lua_val(L, v, &x);
    if (leaf_test(l, &x)) f->hits[l - f->leaves] = 1;
    return;
  }
  if (lua_type(L, v) != LUA_TTABLE) return;
  lua_pushlstring(L, p->comp[i], p->len[i]);
  lua_rawget(L, v);
  if (!lua_isnil(L, -1)) walk(L, f, l, p, i + 1, depth + 1);
  lua_settop(L, v);
}

int lc_filter_match_value(lua_State *L, lc_filter *f, int idx) {
  int k;
  if (f->root < 0) return 1;
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  luaL_checkstack(L, 8, "filter");
  for (k = 0; k < f->nleaves; k++) {
    f->hits[k] = 0;
    lua_pushvalue(L, idx);
    walk(L, f, &f->leaves[k], &f->paths[f->leaves[k].path], 0, 0);
    lua_pop(L, 1);
  }
  return eval_node(f, f->root);
}

/* pushes the projection of the value at v under trie node t, or nothing (returns 0) */
static int project(lua_State *L, const lc_filter *f, int t, int v, int depth) {
  int c, got = 0;
  if (f->trie[t].all) { lua_pushvalue(L, v); return 1; }
  if (depth > MAX_DEPTH * 2) return 0;
  luaL_checkstack(L, 6, "filter");
  if (lua_type(L, v) != LUA_TTABLE) {
    int tx = trie_find(f, t, "_text", 5, 0);
    if (!tx || lua_type(L, v) != LUA_TSTRING) return 0;
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, v);
    lua_setfield(L, -2, "_text");
    return 1;
  }
  if (lc_is_array(L, v)) {
    int k, n = (int)lua_rawlen(L, v);
    lua_newtable(L);
    lc_push_array_mt(L);
    lua_setmetatable(L, -2);
    for (k = 1; k <= n; k++) {
      lua_rawgeti(L, v, k);
      if (project(L, f, t, lua_gettop(L), depth + 1)) lua_rawseti(L, -3, ++got);
      lua_pop(L, 1);
    }
    if (!got) { lua_pop(L, 1); return 0; }
    return 1;
  }
  lua_newtable(L);
  for (c = f->trie[t].child; c; c = f->trie[c].next) {
    lua_pushlstring(L, f->trie[c].name, f->trie[c].len);
    lua_rawget(L, v);
    if (!lua_isnil(L, -1) && project(L, f, c, lua_gettop(L), depth + 1)) {
      lua_pushlstring(L, f->trie[c].name, f->trie[c].len);
      lua_insert(L, -2);
      lua_rawset(L, -4);
      got = 1;
    }
    lua_pop(L, 1);
  }
  if (!got) { lua_pop(L, 1); return 0; }
  return 1;
}

/* pushes the item at idx as kept by the projection (a table; the item itself without fields) */
void lc_filter_project_value(lua_State *L, lc_filter *f, int idx) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  if (f->ntrie == 0) { lua_pushvalue(L, idx); return; }
  if (!project(L, f, 0, idx, 0)) lua_newtable(L);
}

/* ---- evaluation on the XML event tape of one item ---- */

static uint32_t rd32(const char **p) {
  uint32_t u;
  memcpy(&u, *p, 4);
  *p += 4;
  return u;
}

static int name_is(const char *s, size_t n, const char *c, size_t cn, int lower) {
  size_t i;
  if (n != cn) return 0;
  if (!lower) return !memcmp(s, c, n);
  for (i = 0; i < n && (char)tolower((unsigned char)s[i]) == c[i]; i++) {}
  return i == n;
}

typedef struct tframe { const char *name; size_t len, text_off; int table; } tframe;

static const char TEXT_KEY[] = "_text";

static void trim(const char **s, size_t *n) {
  const char *a = *s, *b = *s + *n;
  while (a < b && isspace((unsigned char)*a)) a++;
  while (b > a && isspace((unsigned char)b[-1])) b--;
  *s = a;
  *n = (size_t)(b - a);
}


/* the value at stack depth d (names st[1..d]) plus an optional last name: a
 * string [s, s+n), or a table when s is NULL */
static void visit(lc_filter *f, const tframe *st, int d, const char *last, size_t ln, const char *s, size_t n, int lower) {
  int k, have = 0;
  fval v;
  for (k = 0; k < f->nleaves; k++) {
    const fleaf *l = &f->leaves[k];
    const fpath *p = &f->paths[l->path];
    int i, want = d + (last ? 1 : 0);
    if (f->hits[k] || p->ncomp != want) continue;
    for (i = 0; i < d; i++) if (!name_is(st[i + 1].name, st[i + 1].len, p->comp[i], p->len[i], lower)) break;
    if (i < d) continue;
    if (last && !name_is(last, ln, p->comp[d], p->len[d], lower)) continue;
    if (!have) {
      if (s) str_val(&v, s, n); else { memset(&v, 0, sizeof v); v.type = V_TABLE; }
      have = 1;
    }
    if (leaf_test(l, &v)) f->hits[k] = 1;
  }
}

static int tape_match(lc_filter *f, const char *p, const char *end, int lower) {
  tframe st[MAX_DEPTH + 2];
  int d = -1, k, skip = 0, maxc = 0; /* skip: levels below the deepest path, not looked at */
  if (f->root < 0) return 1;
  for (k = 0; k < f->nleaves; k++) {
    f->hits[k] = 0;
    if (f->paths[f->leaves[k].path].ncomp > maxc) maxc = f->paths[f->leaves[k].path].ncomp;
  }
  f->text.len = 0;
  while (p < end) {
    char ev = *p++;
    if (ev == 'S') {
      uint32_t n = rd32(&p), na, a;
      const char *name = p;
      p += n;
      na = rd32(&p);
      if (skip || d + 1 > maxc) {
        if (!skip) st[d].table = 1;
        skip++;
        for (a = 0; a < na; a++) { uint32_t kn = rd32(&p); p += kn; kn = rd32(&p); p += kn; }
        continue;
      }
      if (d >= 0) st[d].table = 1;
      d++;
      st[d].name = name;
      st[d].len = n;
      st[d].text_off = f->text.len;
      st[d].table = na > 0;
      for (a = 0; a < na; a++) {
        uint32_t kn = rd32(&p), vn;
        const char *ks = p;
        p += kn;
        vn = rd32(&p);
        visit(f, st, d, ks, kn, p, vn, lower);
        p += vn;
      }
    } else if (ev == 'T') {
      uint32_t n = rd32(&p);
      if (!skip && !lc_buf_add(&f->text, p, n)) return -1;
      p += n;
    } else {
      const char *ts;
      size_t tn;
      if (skip) { skip--; continue; }
      ts = f->text.data ? f->text.data + st[d].text_off : "";
      tn = f->text.data ? f->text.len - st[d].text_off : 0;
      trim(&ts, &tn);
      if (!st[d].table) {
        visit(f, st, d, NULL, 0, ts, tn, lower);
      } else {
        visit(f, st, d, NULL, 0, NULL, 0, lower);
        if (tn) visit(f, st, d, TEXT_KEY, 5, ts, tn, lower);
      }
      f->text.len = st[d].text_off;
      d--;
    }
  }
  return eval_node(f, f->root);
}

/* ---- building the kept part of an item from its tape ---- */

typedef struct tb {
  lua_State *L;
  lc_filter *f;
  const char *p;
  int lower, lists;
} tb;

static void push_key(tb *t, const char *s, size_t n) {
  if (t->lower) {
    lc_buf *k = &t->f->key;
    size_t i;
    k->len = 0;
    if (!lc_buf_reserve(k, n + 1)) luaL_error(t->L, "filter: out of memory");
    for (i = 0; i < n; i++) k->data[i] = (char)tolower((unsigned char)s[i]);
    lua_pushlstring(t->L, k->data, n);
  } else {
    lua_pushlstring(t->L, s, n);
  }
}

/* stack: ... parent name value -> ... parent; as the XML replay attaches a child */
static void attach(tb *t, int parent) {
  lua_State *L = t->L;
  int listed = 0;
  if (t->lists) {
    lua_pushvalue(L, -2);
    lua_rawget(L, t->lists);
    listed = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  lua_pushvalue(L, -2);
  lua_rawget(L, parent);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (listed) {
      lua_createtable(L, 1, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      lc_push_array_mt(L);
      lua_setmetatable(L, -2);
    }
    lua_rawset(L, parent);
  } else if (lua_type(L, -1) == LUA_TTABLE && lc_is_array(L, -1)) {
    lua_insert(L, -2);
    lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
    lua_pop(L, 2);
  } else {
    lua_createtable(L, 2, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 2);
    lc_push_array_mt(L);
    lua_setmetatable(L, -2);
    lua_rawset(L, parent);
  }
}

static void skip_elem(tb *t) { /* t->p just past the S event's attributes */
  int depth = 1;
  const char *p = t->p;
  while (depth) {
    char ev = *p++;
    if (ev == 'S') {
      uint32_t n = rd32(&p), na, a;
      p += n;
      na = rd32(&p);
      for (a = 0; a < na; a++) { uint32_t kn = rd32(&p); p += kn; kn = rd32(&p); p += kn; }
      depth++;
    } else if (ev == 'T') {
      uint32_t n = rd32(&p);
      p += n;
    } else {
      depth--;
    }
  }
  t->p = p;
}

/* t->p at an 'S' event; node -1 = keep everything. Pushes the value and returns 1,
 * or returns 0 when nothing of it is kept. */
static int build(tb *t, int node, int item, int depth) {
  lua_State *L = t->L;
  lc_filter *f = t->f;
  const char *p = t->p + 1;
  uint32_t n = rd32(&p), na, a;
  int v, created = 0, full_table, keep_text;
  size_t text_off = f->text.len;
  const char *ts;
  size_t tn;
  (void)n;
  p += n;
  na = rd32(&p);
  if (depth > 1000) luaL_error(L, "filter: item nested too deeply"); /* as the decoders: max_depth <= 1000 in practice */
  luaL_checkstack(L, 8, "filter");
  full_table = na > 0;
  keep_text = node < 0 || trie_find(f, node, TEXT_KEY, 5, 0);
  lua_pushnil(L);
  v = lua_gettop(L);
  if (na && node < 0) { lua_newtable(L); lua_replace(L, v); created = 1; }
  for (a = 0; a < na; a++) {
    uint32_t kn = rd32(&p), vn;
    const char *ks = p;
    int c = 0;
    p += kn;
    vn = rd32(&p);
    if (node >= 0) c = trie_find(f, node, ks, kn, t->lower);
    if (node < 0 || (c && (f->trie[c].all || trie_find(f, c, TEXT_KEY, 5, 0)))) {
      if (!created) { lua_newtable(L); lua_replace(L, v); created = 1; }
      push_key(t, ks, kn);
      lua_pushlstring(L, p, vn);
      if (node >= 0 && !f->trie[c].all) { /* "id._text" on an attribute: the string's text */
        lua_createtable(L, 0, 1);
        lua_insert(L, -2);
        lua_setfield(L, -2, "_text");
      }
      lua_rawset(L, v);
    }
    p += vn;
  }
  for (;;) {
    char ev = *p;
    if (ev == 'T') {
      uint32_t tl;
      p++;
      tl = rd32(&p);
      if (keep_text && !lc_buf_add(&f->text, p, tl)) luaL_error(L, "filter: out of memory");
      p += tl;
    } else if (ev == 'S') {
      const char *q = p + 1, *cname;
      uint32_t cn = rd32(&q);
      int c = -1;
      cname = q;
      full_table = 1;
      if (node >= 0 && !f->trie[node].all) c = trie_find(f, node, cname, cn, t->lower);
      if (node < 0 && !created) { lua_newtable(L); lua_replace(L, v); created = 1; }
      if (c == 0) {
        q += cn;
        na = rd32(&q);
        for (a = 0; a < na; a++) { uint32_t kn = rd32(&q); q += kn; kn = rd32(&q); q += kn; }
        t->p = q;
        skip_elem(t);
        p = t->p;
        continue;
      }
      push_key(t, cname, cn);
      t->p = p;
      if (build(t, c >= 0 && f->trie[c].all ? -1 : c, 0, depth + 1)) {
        if (!created) { lua_newtable(L); lua_replace(L, v); created = 1; }
        attach(t, v);
      } else {
        lua_pop(L, 1);
      }
      p = t->p;
    } else { /* 'E' */
      p++;
      break;
    }
  }
  t->p = p;
  ts = f->text.data ? f->text.data + text_off : "";
  tn = f->text.data ? f->text.len - text_off : 0;
  trim(&ts, &tn);
  if (node < 0) {
    if (!created) { lua_pushlstring(L, ts, tn); lua_replace(L, v); }
    else if (tn) { lua_pushlstring(L, ts, tn); lua_setfield(L, v, "_text"); }
  } else if (keep_text && (!full_table || tn)) {
    if (!created) { lua_newtable(L); lua_replace(L, v); created = 1; }
    lua_pushlstring(L, ts, tn);
    lua_setfield(L, v, "_text");
  }
  f->text.len = text_off;
  if (!created && node >= 0) {
    if (!item) { lua_pop(L, 1); return 0; }
    lua_newtable(L);
    lua_replace(L, v);
  }
  return 1;
}

/* One item's events (S .. its E): 1 with the kept value pushed, 0 when it does
 * not match, -1 out of memory. lists: stack index of the declared list names (0: none). */
int lc_filter_xml_item(lua_State *L, lc_filter *f, const char *tape, size_t len, int lower, int lists) {
  tb t;
  int m = tape_match(f, tape, tape + len, lower);
  if (m <= 0) return m;
  t.L = L;
  t.f = f;
  t.p = tape;
  t.lower = lower;
  t.lists = lists;
  f->text.len = 0;
  build(&t, f->ntrie ? 0 : -1, 1, 0);
  return 1;
}

/* ---- JSON: deciding an item from its text, without building it ---- */

typedef struct jscan {
  lua_State *L;
  lc_filter *f;
  const char *p, *end;
  int depth, max_depth, lists, maxc;
  const char *keys[MAX_DEPTH + 1];
  size_t klen[MAX_DEPTH + 1];
  int nk;
} jscan;

static void js_ws(jscan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

/* a string without escapes (an escape leaves the item to the parser) */
static int js_string(jscan *s, const char **a, size_t *n) {
  const char *q = ++s->p;
  while (q < s->end) {
    unsigned char c = (unsigned char)*q;
    if (c == '"') { *a = s->p; *n = (size_t)(q - s->p); s->p = q + 1; return 1; }
    if (c < 0x20 || c == '\\') return 0;
    if (c >= 0x80) {
      int l = lc_utf8_len(q, s->end);
      if (!l) return 0;
      q += l;
    } else {
      q++;
    }
  }
  return 0;
}

static int js_digits(jscan *s) {
  const char *q = s->p;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
  return s->p > q;
}

static int js_number(jscan *s) {
  if (s->p < s->end && *s->p == '-') s->p++;
  if (s->p >= s->end || *s->p < '0' || *s->p > '9') return 0;
  if (*s->p == '0') s->p++; else js_digits(s);
  if (s->p < s->end && *s->p == '.') { s->p++; if (!js_digits(s)) return 0; }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
    if (!js_digits(s)) return 0;
  }
  return 1;
}

/* the leaves whose path is the current key stack: -1 none */
static int js_on_path(jscan *s) {
  int k, i, any = -1;
  if (s->nk > s->maxc) return -1;
  for (k = 0; k < s->f->nleaves; k++) {
    const fpath *p = &s->f->paths[s->f->leaves[k].path];
    if (p->ncomp != s->nk) continue;
    for (i = 0; i < s->nk && s->klen[i] == p->len[i] && !memcmp(s->keys[i], p->comp[i], p->len[i]); i++) {}
    if (i == s->nk) { any = k; break; }
  }
  return any;
}

static void js_visit(jscan *s, const fval *v) {
  int k, i;
  for (k = 0; k < s->f->nleaves; k++) {
    const fpath *p = &s->f->paths[s->f->leaves[k].path];
    if (s->f->hits[k] || p->ncomp != s->nk) continue;
    for (i = 0; i < s->nk && s->klen[i] == p->len[i] && !memcmp(s->keys[i], p->comp[i], p->len[i]); i++) {}
    if (i == s->nk && leaf_test(&s->f->leaves[k], v)) s->f->hits[k] = 1;
  }
}

/* a null or "" under a declared list key decodes as an empty list: no value */
static int js_listed(jscan *s) {
  int listed;
  if (!s->lists || s->nk == 0) return 0;
  lua_pushlstring(s->L, s->keys[s->nk - 1], s->klen[s->nk - 1]);
  lua_rawget(s->L, s->lists);
  listed = lua_toboolean(s->L, -1);
  lua_pop(s->L, 1);
  return listed;
}

static int js_value(jscan *s) {
  fval v;
  const char *a;
  size_t n;
  js_ws(s);
  if (s->p >= s->end) return 0;
  memset(&v, 0, sizeof v);
  switch (*s->p) {
    case '{': {
      const char *seen[64];
      size_t seen_len[64];
      int nseen = 0, i;
      if (++s->depth > s->max_depth) return 0;
      v.type = V_TABLE;
      if (js_on_path(s) >= 0) js_visit(s, &v);
      s->p++;
      js_ws(s);
      if (s->p < s->end && *s->p == '}') { s->p++; s->depth--; return 1; }
      for (;;) {
        js_ws(s);
        if (s->p >= s->end || *s->p != '"' || !js_string(s, &a, &n)) return 0;
        for (i = 0; i < nseen; i++) if (seen_len[i] == n && !memcmp(seen[i], a, n)) return 0; /* the parser refuses it */
        if (nseen == 64 || s->nk == MAX_DEPTH) return 0;
        seen[nseen] = a;
        seen_len[nseen++] = n;
        js_ws(s);
        if (s->p >= s->end || *s->p != ':') return 0;
        s->p++;
        s->keys[s->nk] = a;
        s->klen[s->nk++] = n;
        if (!js_value(s)) return 0;
        s->nk--;
        js_ws(s);
        if (s->p >= s->end) return 0;
        if (*s->p == ',') { s->p++; continue; }
        if (*s->p == '}') { s->p++; s->depth--; return 1; }
        return 0;
      }
    }
    case '[':
      if (++s->depth > s->max_depth) return 0;
      s->p++;
      js_ws(s);
      if (s->p < s->end && *s->p == ']') { s->p++; s->depth--; return 1; }
      for (;;) {
        if (!js_value(s)) return 0;
        js_ws(s);
        if (s->p >= s->end) return 0;
        if (*s->p == ',') { s->p++; continue; }
        if (*s->p == ']') { s->p++; s->depth--; return 1; }
        return 0;
      }
    case '"':
      if (!js_string(s, &a, &n)) return 0;
      if (js_on_path(s) >= 0 && !(n == 0 && js_listed(s))) { str_val(&v, a, n); js_visit(s, &v); }
      return 1;
    case 't': case 'f': case 'n': {
      const char *w = *s->p == 't' ? "true" : *s->p == 'f' ? "false" : "null";
      size_t wn = strlen(w);
      if ((size_t)(s->end - s->p) < wn || memcmp(s->p, w, wn)) return 0;
      s->p += wn;
      if (js_on_path(s) < 0) return 1;
      if (*w == 'n') { if (js_listed(s)) return 1; v.type = V_NULL; }
      else { v.type = V_BOOL; v.b = *w == 't'; }
      js_visit(s, &v);
      return 1;
    }
    default:
      a = s->p;
      if (!js_number(s)) return 0;
      if (js_on_path(s) < 0) return 1;
      /* what a Lua number may not hold exactly (the parser keeps its text): left to the parser */
      if (s->p - a > 15) return 0;
      {
        char buf[32];
        memcpy(buf, a, (size_t)(s->p - a));
        buf[s->p - a] = 0;
        v.type = V_NUM;
        v.d = strtod(buf, NULL);
      }
      js_visit(s, &v);
      return 1;
  }
}

/* An object at the items path, decided from its text: 0 when it does not match (*endp past it),
 * 1 when it matches, -1 when the parser has to build it to tell (escapes, long numbers, bad JSON:
 * the parser then reports the error). No allocation; lists: stack index of the declared lists. */
int lc_filter_json_probe(lua_State *L, lc_filter *f, const char *p, const char *end, int max_depth, int lists, const char **endp) {
  jscan s;
  int k;
  if (f->root < 0) return 1;
  memset(&s, 0, sizeof s);
  s.L = L;
  s.f = f;
  s.p = p;
  s.end = end;
  s.max_depth = max_depth < MAX_DEPTH * 2 ? max_depth : MAX_DEPTH * 2; /* deeper: the parser (C stack) */
  s.lists = lists;
  for (k = 0; k < f->nleaves; k++) {
    f->hits[k] = 0;
    if (f->paths[f->leaves[k].path].ncomp > s.maxc) s.maxc = f->paths[f->leaves[k].path].ncomp;
  }
  if (!js_value(&s)) return -1;
  *endp = s.p;
  return eval_node(f, f->root);
}

int lc_filter_projects(const lc_filter *f) { return f->ntrie > 0; }

int lc_filter_wants(const lc_filter *f, const char *const *names, int n, int lower) {
  int node = 0, i, k;
  if (f->ntrie == 0) return 1;
  for (i = 0; i < n; i++) {
    if (f->trie[node].all) return 1;
    node = trie_find(f, node, names[i], strlen(names[i]), lower);
    if (!node) break;
  }
  if (i == n) return 1;
  for (k = 0; k < f->nleaves; k++) {
    const fpath *p = &f->paths[f->leaves[k].path];
    if (p->ncomp < n) continue;
    for (i = 0; i < n && name_is(names[i], strlen(names[i]), p->comp[i], p->len[i], lower); i++) {}
    if (i == n) return 1;
  }
  return 0;
}

/* ---- Lua methods ---- */

static lc_filter *check(lua_State *L) { return (lc_filter *)luaL_checkudata(L, 1, FILTER_MT); }

static int l_match(lua_State *L) {
  lc_filter *f = check(L);
  luaL_checkany(L, 2);
  lua_pushboolean(L, lc_filter_match_value(L, f, 2));
  return 1;
}

static int l_project(lua_State *L) {
  lc_filter *f = check(L);
  luaL_checkany(L, 2);
  lc_filter_project_value(L, f, 2);
  return 1;
}

/* f:apply(list) -> a new array of the matching items, projected */
static int l_apply(lua_State *L) {
  lc_filter *f = check(L);
  int k, n, got = 0;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (int)lua_rawlen(L, 2);
  lua_createtable(L, 0, 0);
  lc_push_array_mt(L);
  lua_setmetatable(L, -2);
  for (k = 1; k <= n; k++) {
    lua_rawgeti(L, 2, k);
    if (lc_filter_match_value(L, f, -1)) {
      lc_filter_project_value(L, f, -1);
      lua_rawseti(L, 3, ++got);
    }
    lua_pop(L, 1);
  }
  return 1;
}

static int l_projects(lua_State *L) {
  lua_pushboolean(L, check(L)->ntrie > 0);
  return 1;
}

static const luaL_Reg methods[] = {
  {"match", l_match}, {"project", l_project}, {"apply", l_apply}, {"projects", l_projects}, {NULL, NULL}
};

void lc_open_filter(lua_State *L) {
  if (luaL_newmetatable(L, FILTER_MT)) {
    lua_pushcfunction(L, filter_gc);
    lua_setfield(L, -2, "__gc");
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_filter);
  lua_setfield(L, -2, "filter");
}
