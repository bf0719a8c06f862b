/*
 * A lean load generator to cross-check scenario b) of scripts/bench.ts (docs/BENCHMARKS.md): N
 * threads, each opens one connection to the proxy, sends CONNECT, runs TLS (OpenSSL, no
 * verification: the proxies' CAs differ), then sends GET requests back to back on that connection
 * for the duration. It costs less CPU per request than loadgen.mjs, so it shows whether the
 * generator or the proxy sets the rate. Build:
 *   cc -O2 -o .bench/tls_keepalive scripts/bench/tls_keepalive.c -lssl -lcrypto -lpthread
 *
 *   tls_keepalive PROXY_HOST PROXY_PORT TARGET_HOST TARGET_PORT PATH CONNECTIONS SECONDS WARMUP
 *
 * Prints one JSON object like loadgen.mjs: requests, answered, errors, seconds, rps, p50/p90/p99.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *proxy_host, *target_host, *path;
static int proxy_port, target_port;
static double start_at, measure_from, stop_at;
static SSL_CTX *ctx;
static atomic_long answered, errors;

#define MAX_SAMPLES (1 << 22)
static float *samples; /* latencies in ms while measuring */
static atomic_long nsamples;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Reads until "\r\n\r\n"; returns the head length, or -1. `buf` keeps what was read. */
static int read_head(int fd, SSL *ssl, char *buf, int cap, int *have) {
  for (;;) {
    char *end = *have > 3 ? memmem(buf, *have, "\r\n\r\n", 4) : NULL;
    if (end) return (int)(end - buf) + 4;
    if (*have >= cap) return -1;
    int n = ssl ? SSL_read(ssl, buf + *have, cap - *have) : (int)read(fd, buf + *have, cap - *have);
    if (n <= 0) return -1;
    *have += n;
  }
}

static long content_length(const char *head, int len) {
  for (int i = 0; i + 15 < len; i++) {
    if (strncasecmp(head + i, "\r\ncontent-length:", 17) == 0) return strtol(head + i + 17, NULL, 10);
  }
  return 0;
}

static void *worker(void *arg) {
  (void)arg;
  char buf[65536], req[1024];
  int reqlen = snprintf(req, sizeof req,
                        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: mitm-ts-bench\r\n\r\n", path,
                        target_host, target_port);
  while (now() < stop_at) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(proxy_port)};
    inet_pton(AF_INET, proxy_host, &a.sin_addr);
    SSL *ssl = NULL;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) goto fail;
    char connect_req[512];
    int cl = snprintf(connect_req, sizeof connect_req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
                      target_host, target_port, target_host, target_port);
    if (write(fd, connect_req, cl) != cl) goto fail;
    int have = 0;
    int hl = read_head(fd, NULL, buf, sizeof buf, &have);
    if (hl < 0 || strncmp(buf + 9, "200", 3) != 0 || have != hl) goto fail;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    struct in6_addr ip;
    if (inet_pton(AF_INET, target_host, &ip) != 1 && inet_pton(AF_INET6, target_host, &ip) != 1) {
      SSL_set_tlsext_host_name(ssl, target_host); /* no SNI for an IP address (RFC 6066) */
    }
    if (SSL_connect(ssl) != 1) goto fail;
    while (now() < stop_at) {
      double t0 = now();
      if (SSL_write(ssl, req, reqlen) != reqlen) goto fail;
      have = 0;
      hl = read_head(fd, ssl, buf, sizeof buf, &have);
      if (hl < 0 || buf[9] != '2') goto fail;
      long left = hl + content_length(buf, hl) - have;
      while (left > 0) {
        int n = SSL_read(ssl, buf, left < (long)sizeof buf ? (int)left : (int)sizeof buf);
        if (n <= 0) goto fail;
        left -= n;
      }
      double t1 = now();
      atomic_fetch_add(&answered, 1);
      if (t0 >= measure_from && t1 <= stop_at) {
        long i = atomic_fetch_add(&nsamples, 1);
        if (i < MAX_SAMPLES) samples[i] = (float)((t1 - t0) * 1000);
      }
    }
    SSL_free(ssl);
    close(fd);
    continue;
  fail:
    if (getenv("TLS_KEEPALIVE_DEBUG")) fprintf(stderr, "failed: %s\n", buf);
    if (now() >= measure_from && now() < stop_at) atomic_fetch_add(&errors, 1);
    if (ssl) SSL_free(ssl);
    close(fd);
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s PROXY_HOST PROXY_PORT TARGET_HOST TARGET_PORT PATH CONNECTIONS SECONDS WARMUP\n", argv[0]);
    return 2;
  }
  proxy_host = argv[1];
  proxy_port = atoi(argv[2]);
  target_host = argv[3];
  target_port = atoi(argv[4]);
  path = argv[5];
  int connections = atoi(argv[6]);
  double seconds = atof(argv[7]), warmup = atof(argv[8]);
  samples = malloc(sizeof(float) * MAX_SAMPLES);
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9);
  start_at = now();
  measure_from = start_at + warmup;
  stop_at = measure_from + seconds;
  pthread_t *threads = calloc(connections, sizeof(pthread_t));
  for (int i = 0; i < connections; i++) pthread_create(&threads[i], NULL, worker, NULL);
  for (int i = 0; i < connections; i++) pthread_join(threads[i], NULL);
  long n = nsamples < MAX_SAMPLES ? nsamples : MAX_SAMPLES;
  qsort(samples, n, sizeof(float), cmp);
#define PCT(p) (n ? samples[(long)((p) * n) < n ? (long)((p) * n) : n - 1] : 0)
  printf("{\"mode\":\"keepalive\",\"tool\":\"tls_keepalive.c\",\"connections\":%d,\"requests\":%ld,"
         "\"answered\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"p50\":%.3f,\"p90\":%.3f,"
         "\"p99\":%.3f}\n",
         connections, (long)nsamples, (long)answered, (long)errors, seconds, nsamples / seconds,
         PCT(0.5), PCT(0.9), PCT(0.99));
  return 0;
}
