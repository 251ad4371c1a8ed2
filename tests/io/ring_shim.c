/* A thin shim over Xen's own io/ring.h (Debian libxen-dev), loaded with ctypes by
 * test_ring_differential.py so the Python ring can be compared with the real macros step by step.
 * Every function is one macro; the test owns the memory (sring page, front and back structs).
 * Built with: gcc -shared -fPIC -std=gnu11 -Wl,--no-undefined ring_shim.c */
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ring.h expects the includer to provide the barriers; the test is single-threaded, but keep
 * them real so the macros compile exactly as a kernel would use them. */
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#include <xen/io/ring.h>

/* A request wider than its response, so a response overwrites only part of the slot. */
struct shim_request  { uint64_t value; };
struct shim_response { uint32_t value; };
DEFINE_RING_TYPES(shim, struct shim_request, struct shim_response);

/* Sizes the Python side checks against its own geometry. */
unsigned shim_sizeof_entry(void) { return sizeof(union shim_sring_entry); }
unsigned shim_header_size(void)  { return offsetof(struct shim_sring, ring); }
unsigned shim_sizeof_front(void) { return sizeof(shim_front_ring_t); }
unsigned shim_sizeof_back(void)  { return sizeof(shim_back_ring_t); }

/* The front end initialises the page; both ends attach at index i (i = 0 is *_RING_INIT). */
void shim_init(shim_sring_t *s, shim_front_ring_t *f, shim_back_ring_t *b,
               unsigned page_bytes, RING_IDX i)
{
    SHARED_RING_INIT(s);
    if (i) {  /* start near 2**32: an empty ring whose producers already sit at i */
        s->req_prod = s->rsp_prod = i;
        s->req_event = s->rsp_event = i + 1;
    }
    FRONT_RING_ATTACH(f, s, i, page_bytes);
    BACK_RING_ATTACH(b, s, i, page_bytes);
}

/* Front end. */
unsigned shim_free_requests(shim_front_ring_t *f) { return RING_FREE_REQUESTS(f); }
int shim_full(shim_front_ring_t *f) { return RING_FULL(f); }

void shim_produce_request(shim_front_ring_t *f, uint64_t value)
{
    RING_GET_REQUEST(f, f->req_prod_pvt)->value = value;
    f->req_prod_pvt++;
}

void shim_push_requests(shim_front_ring_t *f) { RING_PUSH_REQUESTS(f); }

int shim_push_requests_and_check_notify(shim_front_ring_t *f)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
    return notify;
}

unsigned shim_has_unconsumed_responses(shim_front_ring_t *f)
{
    return RING_HAS_UNCONSUMED_RESPONSES(f);
}

uint32_t shim_consume_response(shim_front_ring_t *f)
{
    struct shim_response rsp;
    RING_COPY_RESPONSE(f, f->rsp_cons, &rsp);
    f->rsp_cons++;
    return rsp.value;
}

unsigned shim_final_check_for_responses(shim_front_ring_t *f)
{
    unsigned work;
    RING_FINAL_CHECK_FOR_RESPONSES(f, work);
    return work;
}

/* Back end. */
unsigned shim_has_unconsumed_requests(shim_back_ring_t *b)
{
    return RING_HAS_UNCONSUMED_REQUESTS(b);
}

uint64_t shim_consume_request(shim_back_ring_t *b)
{
    struct shim_request req;
    RING_COPY_REQUEST(b, b->req_cons, &req);
    b->req_cons++;
    return req.value;
}

void shim_produce_response(shim_back_ring_t *b, uint32_t value)
{
    RING_GET_RESPONSE(b, b->rsp_prod_pvt)->value = value;
    b->rsp_prod_pvt++;
}

void shim_push_responses(shim_back_ring_t *b) { RING_PUSH_RESPONSES(b); }

int shim_push_responses_and_check_notify(shim_back_ring_t *b)
{
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(b, notify);
    return notify;
}

unsigned shim_final_check_for_requests(shim_back_ring_t *b)
{
    unsigned work;
    RING_FINAL_CHECK_FOR_REQUESTS(b, work);
    return work;
}

int shim_request_cons_overflow(shim_back_ring_t *b, RING_IDX cons)
{
    return RING_REQUEST_CONS_OVERFLOW(b, cons);
}

int shim_request_prod_overflow(shim_back_ring_t *b, RING_IDX prod)
{
    return RING_REQUEST_PROD_OVERFLOW(b, prod);
}

int shim_response_prod_overflow(shim_front_ring_t *f, RING_IDX prod)
{
    return RING_RESPONSE_PROD_OVERFLOW(f, prod);
}
