"""Minimal TAP producer for the project's Python tests (read by automake's tap-driver)."""
import sys
import traceback


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def run(self, fn, *args):
        """Runs one test function; an exception is one failure, not the end of the file."""
        try:
            fn(self, *args)
        except Exception:
            self.ok(False, "%s raised" % fn.__name__, traceback.format_exc())

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)
