"""A seccomp filter for job sandboxes: system calls a job never needs are refused.

Defence in depth under the namespaces: these calls are the kernel code most
often used to turn a bug into an escape (io_uring, bpf, userfaultfd, perf,
keyrings, ptrace, mounts, modules), and a job that reads Parquet and writes
tables never makes them. Refused calls fail with ``EPERM``, as in Docker's
default profile. The filter is classic BPF, built here so that no library is
needed; bubblewrap loads it (``--seccomp FD``).

No Django here (see ``sandbox``).
"""

from __future__ import annotations

import errno
import platform
import struct

# From <linux/audit.h>.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000

# Names and numbers from <asm/unistd_64.h> (x86_64) and <asm-generic/unistd.h> (aarch64).
DENIED = {
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "perf_event_open": (298, 241),
    "bpf": (321, 280),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "keyctl": (250, 219),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "setns": (308, 268),
    "name_to_handle_at": (303, 264),
    "open_by_handle_at": (304, 265),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "acct": (163, 89),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
}

# Classic BPF opcodes and seccomp return values (<linux/filter.h>, <linux/seccomp.h>).
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_REFUSE = 0x00050000 | errno.EPERM
_NR_OFFSET, _ARCH_OFFSET = 0, 4  # in struct seccomp_data


def _instruction(code: int, jump_true: int, jump_false: int, value: int) -> bytes:
    return struct.pack("=HBBI", code, jump_true, jump_false, value)


def program(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture, or None where it is not known."""
    machine = machine or platform.machine()
    if machine not in AUDIT_ARCH:
        return None
    column = 0 if machine == "x86_64" else 1
    numbers = sorted({pair[column] for pair in DENIED.values()})
    checks: list[tuple[int, int]] = [(_JUMP_EQUAL, n) for n in numbers]
    if machine == "x86_64":
        # The x32 ABI numbers the same calls from X32_SYSCALL_BIT up.
        checks.insert(0, (_JUMP_AT_LEAST, X32_SYSCALL_BIT))
    body = [
        _instruction(_LOAD_WORD, 0, 0, _ARCH_OFFSET),
        # Another architecture's calls (a 32-bit program) would escape the numbers below.
        _instruction(_JUMP_EQUAL, 1, 0, AUDIT_ARCH[machine]),
        _instruction(_RETURN, 0, 0, _REFUSE),
        _instruction(_LOAD_WORD, 0, 0, _NR_OFFSET),
    ]
    for position, (code, value) in enumerate(checks):
        to_refuse = len(checks) - position  # skip the remaining checks and the allow
        body.append(_instruction(code, to_refuse, 0, value))
    body.append(_instruction(_RETURN, 0, 0, _ALLOW))
    body.append(_instruction(_RETURN, 0, 0, _REFUSE))
    return b"".join(body)
