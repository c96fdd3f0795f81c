/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tracepoints.h - the one list of the attach points of the kernel side.
 *
 * API: X-macros, expanded by bpf/capture.bpf.c into the agent's programs
 * and by bench/floor.bpf.c into empty programs on the same attach points
 * (the benchmarks' floor), so the two cannot drift apart.
 *
 * RT_DATA_SYSCALLS(X) calls X(syscall, args, direction) for each syscall
 * that moves socket bytes; it gets a sys_exit_ program only, which reads
 * the arguments from the task's saved registers and the data with the
 * return value (no sys_enter_ program: capture.bpf.c, exit_args()).
 * args says where the bytes are: BUF (fd, buf, count), IOV (fd, iovec,
 * vlen), MSG (fd, user_msghdr) or NONE (sendfile: bytes the program never
 * sees).
 *
 * RT_OTHER_PROGS(X) and RT_LOGFILE_PROGS(X) call X(section, program) for
 * every other program;
 * capture.bpf.c writes each of them by hand under that exact name, and
 * tests/bpf checks that both objects attach to the same set of points.
 */
#ifndef REDTAP_TRACEPOINTS_H
#define REDTAP_TRACEPOINTS_H

#define RT_DATA_SYSCALLS(X)                                                                        \
	X(read, BUF, RT_DIR_INGRESS)                                                               \
	X(recvfrom, BUF, RT_DIR_INGRESS)                                                           \
	X(write, BUF, RT_DIR_EGRESS)                                                               \
	X(sendto, BUF, RT_DIR_EGRESS)                                                              \
	X(readv, IOV, RT_DIR_INGRESS)                                                              \
	X(writev, IOV, RT_DIR_EGRESS)                                                              \
	X(recvmsg, MSG, RT_DIR_INGRESS)                                                            \
	X(sendmsg, MSG, RT_DIR_EGRESS)                                                             \
	X(sendfile64, NONE, RT_DIR_EGRESS)

#define RT_OTHER_PROGS(X)                                                                          \
	X("tracepoint/syscalls/sys_exit_connect", exit_connect)                                    \
	X("tracepoint/syscalls/sys_exit_accept4", exit_accept4)                                    \
	X("tracepoint/syscalls/sys_exit_accept", exit_accept)                                      \
	X("tracepoint/syscalls/sys_enter_close", enter_close)                                      \
	X("tracepoint/syscalls/sys_enter_ioctl", enter_ioctl)                                      \
	X("tracepoint/sock/inet_sock_set_state", sock_set_state)                                   \
	X("raw_tp/sched_process_exec", proc_exec)                                                  \
	X("raw_tp/sched_process_exit", proc_exit)                                                  \
	X("raw_tp/sched_process_fork", proc_fork)                                                  \
	/* OpenSSL (tls.bpf.h): attached per libssl file by user/intake/tlstrack.c */              \
	X("uprobe", tls_read_enter)                                                                \
	X("uprobe", tls_read_ex_enter)                                                             \
	X("uprobe", tls_write_enter)                                                               \
	X("uprobe", tls_write_ex_enter)                                                            \
	X("uprobe", tls_quiet_enter)                                                               \
	X("uretprobe", tls_return)                                                                 \
	/* Go crypto/tls (tls.bpf.h): per Go executable, by user/intake/gotrack.c */               \
	X("uprobe", go_tls_read_enter)                                                             \
	X("uprobe", go_tls_write_enter)                                                            \
	X("uprobe", go_tls_return)                                                                 \
	X("uprobe", go_tls_quiet_enter)                                                            \
	X("uprobe", go_tls_quiet_return)

/*
 * The opens of log files (logs.files), loaded only when globs are set
 * (user/intake/capture.c): the floor has them too, and bench/floor.c
 * leaves them unloaded so the floor stays the agent's default set.
 */
#define RT_LOGFILE_PROGS(X)                                                                        \
	X("tracepoint/syscalls/sys_enter_openat", enter_openat)                                    \
	X("tracepoint/syscalls/sys_exit_openat", exit_openat)                                      \
	X("tracepoint/syscalls/sys_enter_openat2", enter_openat2)                                  \
	X("tracepoint/syscalls/sys_exit_openat2", exit_openat2)                                    \
	X("tracepoint/syscalls/sys_enter_open", enter_open_)                                       \
	X("tracepoint/syscalls/sys_exit_open", exit_open_)                                         \
	X("tracepoint/syscalls/sys_enter_creat", enter_creat)                                      \
	X("tracepoint/syscalls/sys_exit_creat", exit_creat)

#endif /* REDTAP_TRACEPOINTS_H */
