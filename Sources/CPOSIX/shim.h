#ifndef PHIGATE_CPOSIX_SHIM_H
#define PHIGATE_CPOSIX_SHIM_H

/* Linux interfaces that the toolchain's Glibc module does not export. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

/* accept4 is declared only under _GNU_SOURCE, which the toolchain's Glibc module is built without. */
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

#endif
