/* Baseline for bench/run.lua: N GETs of one URL over a kept-alive libcurl easy
 * handle, printing calls per second. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <curl/curl.h>

static size_t sink(char *p, size_t s, size_t n, void *u) { (void)p; (void)u; return s * n; }

int main(int argc, char **argv) {
  int i, n = argc > 2 ? atoi(argv[2]) : 2000;
  struct timespec a, b;
  CURL *e;
  if (argc < 2) { fprintf(stderr, "usage: raw_curl URL [N]\n"); return 2; }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, argv[1]);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (i = 0; i < n; i++) {
    long st = 0;
    if (curl_easy_perform(e) != CURLE_OK) { fprintf(stderr, "request failed\n"); return 1; }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200) { fprintf(stderr, "status %ld\n", st); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.1f\n", n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
  curl_easy_cleanup(e);
  return 0;
}
