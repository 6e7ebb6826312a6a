"""A passthrough FUSE file system that adds a delay to every operation: a stand-in
for a slow network share, for tests/test_slow_fs.py. Run as a script:

    python tests/_slowfs.py SOURCE MOUNTPOINT DELAY_SECONDS

It serves in the foreground until unmounted. Locks are not implemented here, so
the kernel keeps POSIX locks for the mount itself, which is what a correctly set up
share gives processes on one machine; the point of this file system is latency.
"""

from __future__ import annotations

import errno
import os
import sys
import time

from fuse import FUSE, FuseOSError, Operations  # fusepy, test extra


class SlowPassthrough(Operations):
    def __init__(self, root: str, delay: float) -> None:
        self.root = root
        self.delay = delay

    def _path(self, partial: str) -> str:
        return os.path.join(self.root, partial.lstrip("/"))

    def __call__(self, op: str, *args: object) -> object:
        time.sleep(self.delay)
        if not hasattr(self, op):
            raise FuseOSError(errno.EFAULT)
        try:
            return getattr(self, op)(*args)
        except OSError as exc:
            raise FuseOSError(exc.errno or errno.EIO) from None

    def access(self, path: str, mode: int) -> None:
        if not os.access(self._path(path), mode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path: str, fh: int | None = None) -> dict[str, int]:
        st = os.lstat(self._path(path))
        keys = (
            "st_atime",
            "st_ctime",
            "st_gid",
            "st_mode",
            "st_mtime",
            "st_nlink",
            "st_size",
            "st_uid",
        )
        return {key: getattr(st, key) for key in keys}

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *os.listdir(self._path(path))]

    def unlink(self, path: str) -> None:
        os.unlink(self._path(path))

    def rename(self, old: str, new: str) -> None:
        os.rename(self._path(old), self._path(new))

    def chmod(self, path: str, mode: int) -> None:
        os.chmod(self._path(path), mode)

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(self._path(path), uid, gid)

    def utimens(self, path: str, times: tuple[float, float] | None = None) -> None:
        os.utime(self._path(path), times)

    def statfs(self, path: str) -> dict[str, int]:
        sv = os.statvfs(self._path(path))
        keys = (
            "f_bavail",
            "f_bfree",
            "f_blocks",
            "f_bsize",
            "f_favail",
            "f_ffree",
            "f_files",
            "f_flag",
            "f_frsize",
            "f_namemax",
        )
        return {key: getattr(sv, key) for key in keys}

    def open(self, path: str, flags: int) -> int:
        return os.open(self._path(path), flags)

    def create(self, path: str, mode: int, fi: object = None) -> int:
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT, mode)

    def read(self, path: str, length: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, length, offset)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        return os.pwrite(fh, data, offset)

    def truncate(self, path: str, length: int, fh: int | None = None) -> None:
        with open(self._path(path), "r+b") as f:
            f.truncate(length)

    def flush(self, path: str, fh: int) -> None:
        os.fsync(fh)

    def release(self, path: str, fh: int) -> None:
        os.close(fh)

    def fsync(self, path: str, datasync: int, fh: int) -> None:
        os.fsync(fh)


if __name__ == "__main__":
    source, mountpoint, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    FUSE(SlowPassthrough(source, delay), mountpoint, foreground=True, nothreads=False)
