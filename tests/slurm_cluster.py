"""A throwaway single-node Slurm cluster for tests, from Debian's ``slurm-wlm`` and ``munge``.

Everything the cluster writes (munge key, socket and seed, slurm.conf, controller state, spool,
pid files, logs, the job completion log) lives in one temporary folder. Every address in the
configuration is 127.0.0.1 and the daemons use ports picked free at start, so a Slurm or munge
already running on the machine is neither used nor disturbed. The daemons run in the
foreground as children of the test; ``stop`` cancels what is still queued, ends exactly those
processes and removes the folder.

Jobs are logged by ``jobcomp/filetxt`` (no accounting database is needed): one record per
finished job, written by the controller, which is how a test can tell what Slurm really ran.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PACKAGES = ('slurmctld', 'slurmd', 'slurm-client', 'munge')
PROGRAMS = ('munged', 'slurmctld', 'slurmd', 'srun', 'sinfo', 'squeue', 'scancel')
DAEMONS = ('munged', 'slurmctld', 'slurmd')  # what the packages could start as services
SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/usr/bin', '/sbin'])


class Unavailable(Exception):
    """Slurm cannot be installed or started on this machine; the message says why."""


def which(program):
    return shutil.which(program, path=SEARCH_PATH)


def _daemon_pids():
    pids = set()
    for entry in os.listdir('/proc'):
        try:
            with open(f'/proc/{entry}/comm') as f:
                if f.read().strip() in DAEMONS:
                    pids.add(int(entry))
        except (OSError, ValueError):
            pass
    return pids


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = {p for p in pids if os.path.exists(f'/proc/{p}')}
        time.sleep(0.2)
    return pids


def _end(pids):
    """SIGTERM, then SIGKILL after 20 s, for processes that are not our children."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        pids = _wait_gone(pids, 20)
        if not pids:
            return


def install():
    """Install the packages when a program is missing (root and apt-get needed).

    Debian's maintainer scripts may start munge, slurmctld and slurmd as system services
    (where no policy-rc.d forbids it); any such daemon that was not running before is ended
    again, so the machine is left as the packages alone would leave it, minus the services.
    """
    missing = [p for p in PROGRAMS if which(p) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise Unavailable(f'{", ".join(missing)} not installed, and installing needs root')
    apt = which('apt-get')
    if apt is None:
        raise Unavailable(f'{", ".join(missing)} not installed, and there is no apt-get')
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    before = _daemon_pids()
    try:
        command = [apt, 'install', '-y', '-q', '--no-install-recommends', *PACKAGES]
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:  # perhaps stale package lists: refresh them once
            subprocess.run([apt, 'update', '-q'], env=env, stdin=subprocess.DEVNULL, capture_output=True)
            done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise Unavailable(
                f'`apt-get install {" ".join(PACKAGES)}` failed: '
                + (done.stderr or done.stdout)[-600:].strip()
            )
    finally:
        _end(_daemon_pids() - before)
    still = [p for p in PROGRAMS if which(p) is None]
    if still:
        raise Unavailable(f'{", ".join(still)} still missing after installing {PACKAGES}')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _hostname_is_loopback():
    try:
        return socket.gethostbyname(socket.gethostname()).startswith('127.')
    except OSError:
        return False


class Cluster:
    """``with Cluster() as cluster:`` a controller and one idle node in ``cluster.partition``.

    Clients find it through ``cluster.env`` (``SLURM_CONF``).
    """

    partition = 'llmc'
    node = 'llmc-node'

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='slurm-cluster-')
        os.chmod(self.root, 0o755)  # munged wants every user able to reach its socket
        self.conf = self.path('slurm.conf')
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(('SLURM_', 'SRUN_'))}
        self.env['SLURM_CONF'] = self.conf
        self.procs = {}

    def path(self, name):
        return os.path.join(self.root, name)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if os.geteuid() != 0:
            raise Unavailable('slurmd has to run as root to start jobs')
        key = self.path('munge.key')
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), 'wb') as f:
            f.write(os.urandom(128))
        socket_path = self.path('munge.socket')
        self._spawn(
            'munged',
            '--foreground',
            f'--socket={socket_path}',
            f'--key-file={key}',
            f'--pid-file={self.path("munged.pid")}',
            f'--log-file={self.path("munged.log")}',
            f'--seed-file={self.path("munged.seed")}',
        )
        self._wait(lambda: os.path.exists(socket_path), 'munged to create its socket', 30)
        self._write_conf(socket_path)
        self._spawn('slurmctld', '-D', '-f', self.conf)
        self._spawn('slurmd', '-D', '-f', self.conf, '-N', self.node)
        self._wait(self._node_idle, f'node {self.node} to be idle', 60)

    def _write_conf(self, munge_socket):
        for folder in ('state', 'spool'):
            os.makedirs(self.path(folder))
        open(self.path('plugstack.conf'), 'w').close()  # no SPANK plugins from /etc/slurm
        # the node's real sockets, cores and threads, as slurmd itself detects them
        hardware = (
            subprocess.run([which('slurmd'), '-C'], capture_output=True, text=True, env=self.env)
            .stdout.split('\n')[0]
            .split()
        )
        hardware = [
            w
            for w in hardware
            if w.split('=')[0] in ('CPUs', 'Boards', 'SocketsPerBoard', 'CoresPerSocket', 'ThreadsPerCore')
        ]
        lines = [
            'ClusterName=llmc-test',
            'SlurmctldHost=localhost(127.0.0.1)',
            f'SlurmctldPort={_free_port()}',
            f'SlurmdPort={_free_port()}',
            f'SlurmUser={pwd.getpwuid(os.geteuid()).pw_name}',
            'AuthType=auth/munge',
            'CredType=cred/munge',
            f'AuthInfo=socket={munge_socket}',
            f'StateSaveLocation={self.path("state")}',
            f'SlurmdSpoolDir={self.path("spool")}',
            f'SlurmctldPidFile={self.path("slurmctld.pid")}',
            f'SlurmdPidFile={self.path("slurmd.pid")}',
            f'SlurmctldLogFile={self.path("slurmctld.log")}',
            f'SlurmdLogFile={self.path("slurmd.log")}',
            f'PlugStackConfig={self.path("plugstack.conf")}',
            'MailProg=/bin/true',
            'ProctrackType=proctrack/linuxproc',
            'TaskPlugin=task/none',
            'JobAcctGatherType=jobacct_gather/none',
            'AccountingStorageType=accounting_storage/none',
            'JobCompType=jobcomp/filetxt',
            f'JobCompLoc={self.path("jobcomp.txt")}',
            'SelectType=select/cons_tres',
            'SelectTypeParameters=CR_Core',
            'MpiDefault=none',
            'ReturnToService=2',
            f'NodeName={self.node} NodeAddr=127.0.0.1 {" ".join(hardware)} State=UNKNOWN',
            f'PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP',
        ]
        if _hostname_is_loopback():
            # bind to the address a name resolves to instead of to every address; slurmd and
            # srun resolve the host name, so this is loopback only where that name is
            lines.append('CommunicationParameters=NoCtldInAddrAny,NoInAddrAny')
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _spawn(self, program, *args):
        log = open(self.path(program + '.out'), 'w')
        with log:
            self.procs[program] = subprocess.Popen(
                [which(program), *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
            )

    def _node_idle(self):
        out = self.client('sinfo', '-h', '-N', '-n', self.node, '-o', '%T', check=False)
        return out.strip() == 'idle'

    def _wait(self, ready, what, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise Unavailable(
                        f'{name} exited with status {proc.returncode} while '
                        f'waiting for {what}:\n{self.logs()}'
                    )
            if ready():
                return
            time.sleep(0.5)
        raise Unavailable(f'timed out after {timeout} s waiting for {what}:\n{self.logs()}')

    def logs(self, chars=1500):
        parts = []
        for name in sorted(os.listdir(self.root)):
            if name.endswith(('.log', '.out')):
                with open(self.path(name), errors='replace') as f:
                    parts.append(f'--- {name}\n{f.read()[-chars:]}')
        return '\n'.join(parts)

    def client(self, program, *args, check=True):
        done = subprocess.run(
            [which(program), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if check and done.returncode != 0:
            raise RuntimeError(f'{program} {" ".join(args)}: {done.stderr}')
        return done.stdout

    def finished_jobs(self):
        """The controller's record of each finished job: dicts of its fields (JobId, Name,
        JobState, WorkDir, ExitCode, ...). Values hold no spaces, except the job name."""
        path = self.path('jobcomp.txt')
        if not os.path.exists(path):
            return []
        jobs = []
        with open(path) as f:
            for line in f:
                name = re.search(r' Name=(.*) JobState=', line)
                rest = line[: name.start(1)] + line[name.end(1) :]
                jobs.append(dict(re.findall(r'(\w+)=(\S*)', rest), Name=name.group(1)))
        return jobs

    def stop(self):
        """Cancel our jobs, end our daemons (by the process ids started here), remove the
        folder. Steps still running hold sockets in the spool folder; wait for them to go."""
        if all(name in self.procs and self.procs[name].poll() is None for name in ('slurmctld', 'slurmd')):
            try:
                self._cancel_jobs()
            except (OSError, subprocess.SubprocessError):
                pass  # the daemons are ended below all the same
        for name in ('slurmd', 'slurmctld', 'munged'):
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            children = self._children(proc.pid)  # slurmctld's slurmscriptd, for one
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _end(_wait_gone(children, 10))
        shutil.rmtree(self.root, ignore_errors=True)

    def _cancel_jobs(self):
        self.client('scancel', '--quiet', '-p', self.partition, check=False)
        step = re.compile(re.escape(self.node) + r'_\d+\.\d+$')  # a running step's socket
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            self.client('squeue', '-h', check=False).strip()
            or any(step.match(n) for n in os.listdir(self.path('spool')))
        ):
            time.sleep(0.5)

    @staticmethod
    def _children(pid):
        found = set()
        for entry in os.listdir('/proc'):
            try:
                with open(f'/proc/{entry}/stat') as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except (OSError, ValueError, IndexError):
                pass
        return found
