import os
import subprocess
import sys
import time
import unittest

from chirpy_harness import procstat


class ProcstatTest(unittest.TestCase):
    def test_rss_and_status_of_this_process(self):
        rss = procstat.rss_bytes(os.getpid())
        self.assertGreater(rss, 1024 * 1024)
        status = procstat.proc_status(os.getpid())
        self.assertGreaterEqual(status["VmHWM"] * 1024, rss)
        self.assertGreaterEqual(status["Threads"], 1)
        self.assertGreater(procstat.open_fds(os.getpid()), 2)

    def test_cpu_seconds_grow_with_work(self):
        before = procstat.cpu_seconds(os.getpid())
        deadline = time.process_time() + 0.3
        while time.process_time() < deadline:
            pass
        self.assertGreaterEqual(procstat.cpu_seconds(os.getpid()) - before, 0.15)  # ticks are 10 ms

    def test_children_and_their_cpu(self):
        busy = "import time\nt = time.process_time() + 0.3\nwhile time.process_time() < t: pass\ntime.sleep(30)"
        child = subprocess.Popen([sys.executable, "-c", busy])
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        self.assertIn(child.pid, procstat.children_of(os.getpid()))
        self.assertTrue(procstat.alive(child.pid))
        deadline = time.monotonic() + 10
        while procstat.cpu_seconds(child.pid) < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        mine = procstat.cpu_seconds(os.getpid(), with_children=True)
        self.assertGreaterEqual(procstat.family_cpu_seconds(os.getpid()) - mine, 0.15)

    def test_a_reaped_process_is_not_alive(self):
        child = subprocess.Popen(["true"])
        child.wait()
        self.assertFalse(procstat.alive(child.pid))

    def test_the_sampler_sees_memory_grow(self):
        with procstat.RssSampler(os.getpid(), interval=0.01) as sampler:
            ballast = bytearray(64 * 1024 * 1024)
            ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page
            time.sleep(0.1)
        self.assertGreaterEqual(sampler.peak - sampler.start, 32 * 1024 * 1024)
        self.assertGreater(len(sampler.samples), 2)
        self.assertEqual(sampler.samples[0], (0.0, sampler.start))
        del ballast

    def test_the_machine_is_busy_while_we_work(self):
        before = procstat.machine_busy_seconds()
        deadline = time.process_time() + 0.2
        while time.process_time() < deadline:
            pass
        self.assertGreater(procstat.machine_busy_seconds() - before, 0.1)


if __name__ == "__main__":
    unittest.main()
