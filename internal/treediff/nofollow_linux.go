package treediff

import "syscall"

const noFollow = syscall.O_NOFOLLOW
