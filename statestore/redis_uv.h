/* hiredis on a libuv loop: the adapter's attach and clean-up, with event
 * hooks that fix two things of hiredis 0.14's libuv adapter.
 *
 * - It re-arms the uv_poll handle on every command it queues. Every
 *   uv_poll_start removes the descriptor from epoll and adds it back, so a
 *   checkpoint round of thousands of commands cost thousands of epoll_ctl
 *   calls. These hooks call uv_poll_start only when the set of events they
 *   wait for changes.
 * - It returns early when uv_poll reports an error (libuv turns EPOLLERR
 *   into status UV_EBADF and stops the handle), so a refused connect or a
 *   reset link never reaches hiredis and the connection hangs without a
 *   word. On an error these hooks read or write anyway, and hiredis finds
 *   the error itself, as hiredis 1.0 does. */
#ifndef TANDEM_REDIS_UV_H
#define TANDEM_REDIS_UV_H

#include <uv.h>

struct redisAsyncContext;

/* Attach `ac` to `loop`. Returns 0, or -1 (the context is left to the
 * caller to free). */
int redis_uv_attach(struct redisAsyncContext *ac, uv_loop_t *loop);

#endif
