/* hiredis on a libuv loop (see redis_uv.h). */
#include "redis_uv.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>

static void redis_uv_poll(uv_poll_t *h, int status, int events)
{
	redisLibuvEvents *p = h->data;
	int ev = status ? p->events : events;
	if (p->context && (ev & UV_READABLE))
		redisAsyncHandleRead(p->context);
	if (p->context && (ev & UV_WRITABLE)) /* NULL: freed by the read */
		redisAsyncHandleWrite(p->context);
}

static void redis_uv_set(redisLibuvEvents *p, int add, int del)
{
	int events = (p->events | add) & ~del;
	/* libuv stops the handle itself after an error: re-arm it then,
	 * even with the same events */
	if (events == p->events &&
	    (!events || uv_is_active((uv_handle_t *)&p->handle)))
		return;
	p->events = events;
	if (events)
		uv_poll_start(&p->handle, events, redis_uv_poll);
	else
		uv_poll_stop(&p->handle);
}

static void redis_uv_add_read(void *p)
{
	redis_uv_set(p, UV_READABLE, 0);
}

static void redis_uv_del_read(void *p)
{
	redis_uv_set(p, 0, UV_READABLE);
}

static void redis_uv_add_write(void *p)
{
	redis_uv_set(p, UV_WRITABLE, 0);
}

static void redis_uv_del_write(void *p)
{
	redis_uv_set(p, 0, UV_WRITABLE);
}

int redis_uv_attach(struct redisAsyncContext *ac, uv_loop_t *loop)
{
	if (redisLibuvAttach(ac, loop) != REDIS_OK)
		return -1;
	/* Nothing is armed before the hooks are replaced: the connect
	 * callback that follows arms the write. */
	ac->ev.addRead = redis_uv_add_read;
	ac->ev.delRead = redis_uv_del_read;
	ac->ev.addWrite = redis_uv_add_write;
	ac->ev.delWrite = redis_uv_del_write;
	return 0;
}
