/* udp_sink ADDR:PORT SECONDS: a plain UDP receiver for the data-path bench
 * (bench/data.sh), the ceiling tandem's frontend and worker are compared
 * with. Binds ADDR:PORT (IPv4), prints "ready", then reads datagrams with
 * recvmmsg and counts them, until SECONDS have passed or, once datagrams
 * have come, nothing has for a second. Prints
 *   datagrams=N bytes=B seconds=S
 * where S runs from the first datagram to the last. Exit 0, or 2 for a bad
 * command line, 1 when the socket cannot be had. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_BATCH   64
#define SINK_MAXLEN  2048
#define SINK_IDLE_MS 1000
#define SINK_RCVBUF  (16 << 20)

static uint64_t sink_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s ADDR:PORT SECONDS\n", argv[0]);
		return 2;
	}
	char host[64];
	const char *colon = strrchr(argv[1], ':');
	double secs = strtod(argv[2], NULL);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (!colon || (size_t)(colon - argv[1]) >= sizeof(host) || secs <= 0) {
		fprintf(stderr, "%s: bad arguments\n", argv[0]);
		return 2;
	}
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = 0;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "%s: bad address '%s'\n", argv[0], argv[1]);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int rcvbuf = SINK_RCVBUF; /* as the frontend's */
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
				  sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1],
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	static uint8_t buf[SINK_BATCH][SINK_MAXLEN];
	struct mmsghdr m[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	uint64_t n = 0, bytes = 0, first = 0, last = 0;
	uint64_t start = sink_now_ns(), end = start + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t now = sink_now_ns();
		if (now >= end ||
		    (n && now - last >= SINK_IDLE_MS * 1000000ull))
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		for (unsigned i = 0; i < SINK_BATCH; i++) {
			iov[i] = (struct iovec){buf[i], SINK_MAXLEN};
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		int k;
		while ((k = recvmmsg(fd, m, SINK_BATCH, MSG_DONTWAIT, NULL)) >
		       0) {
			uint64_t t = sink_now_ns();
			if (!n)
				first = t;
			last = t;
			n += (uint64_t)k;
			for (int i = 0; i < k; i++)
				bytes += m[i].msg_len;
		}
	}
	printf("datagrams=%llu bytes=%llu seconds=%.6f\n",
	       (unsigned long long)n, (unsigned long long)bytes,
	       n ? (double)(last - first) / 1e9 : 0.0);
	close(fd);
	return 0;
}
