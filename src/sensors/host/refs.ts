/**
 * Files a command line names: the program it runs, the scripts it hands to a shell or interpreter, the
 * configs it passes with -c/--config, as root-relative paths of the scanned host. Unix absolute paths are
 * taken as they are; Windows paths (C:\Users\bob\...) and the environment variables droppers use (%TEMP%,
 * %APPDATA%, $env:TEMP ...) are mapped onto the root's /Users, /ProgramData and /Windows, for the user the
 * command belongs to when known. Pure: used by the sensor to read what persistence points at, and by the
 * detectors to link a persistence line to what the scan found in those files.
 */

/** Where Windows puts a user's (or the system's) folders below the root. */
function winEnv(user: string | undefined): Record<string, string> {
  const home = user ? `/Users/${user}` : undefined;
  const temp = home ? `${home}/AppData/Local/Temp` : '/Windows/Temp';
  return {
    temp,
    tmp: temp,
    appdata: home ? `${home}/AppData/Roaming` : '/ProgramData',
    localappdata: home ? `${home}/AppData/Local` : '/ProgramData',
    userprofile: home ?? '/Users/Default',
    public: '/Users/Public',
    programdata: '/ProgramData',
    allusersprofile: '/ProgramData',
    windir: '/Windows',
    systemroot: '/Windows',
    programfiles: '/Program Files',
  };
}

const UNIX_PATH = /(?:^|[\s"'=:;|&(`<>])(\/(?:[\w.+@%-]+\/)*[\w.+@%-]+)/g;
const WIN_PATH =
  /(?:(?<![\w$:])[A-Za-z]:|%\w+%|\$env:\w+|\$\{env:\w+\})((?:\\+|\/)(?:[^\\/\s"'|&<>;,*?]+(?: [^\\/\s"'|&<>;,*?-][^\\/\s"'|&<>;,*?]*)*(?:\\+|\/))*[^\\/\s"'|&<>;,*?]+\.[A-Za-z0-9]{1,5})/g;

/** Directories no command file lives in (devices, kernel interfaces): a mention is not a file to read. */
const NOT_FILES = /^\/(?:dev|proc|sys|run)\/|^\/(?:dev|proc|sys|run)$/;
/** Logs, databases, sockets and caches a command writes or serves: never what it runs, and often large. */
const NOT_RUN =
  /^\/var\/(?:log|cache|lib\/(?:mysql|postgresql|docker|containerd|redis))\/|\.(?:log|gz|db|sqlite3?|pid|sock|lock|jar|war)$/i;

export function commandPaths(line: string, user?: string): string[] {
  const out = new Set<string>();
  for (const m of line.matchAll(UNIX_PATH)) {
    const p = m[1]!.replace(/[.,]+$/, '');
    if (p.length < 2 || NOT_FILES.test(p) || NOT_RUN.test(p)) continue;
    // A redirection target (`>> /var/log/x.log`) is written, not run.
    const before = line.slice(0, m.index! + m[0]!.length - m[1]!.length).trimEnd();
    if (before.endsWith('>')) continue;
    out.add(p);
  }
  const env = winEnv(user);
  for (const m of line.matchAll(WIN_PATH)) {
    const whole = m[0]!;
    const head = whole.slice(0, whole.length - m[1]!.length);
    let base: string | undefined;
    if (/^[A-Za-z]:$/.test(head)) base = '';
    else {
      const v = /^(?:%(\w+)%|\$env:(\w+)|\$\{env:(\w+)\})$/i.exec(head);
      const name = (v?.[1] ?? v?.[2] ?? v?.[3] ?? '').toLowerCase();
      base = env[name];
    }
    if (base === undefined) continue;
    const p = `${base}${m[1]!.replace(/[\\/]+/g, '/')}`;
    if (!NOT_RUN.test(p)) out.add(p);
  }
  return [...out];
}

/** The user a persistence file belongs to, from its path (Startup folder, home, spool). */
export function userOfPath(rel: string): string | undefined {
  return (
    /^\/Users\/([^/]+)\//i.exec(rel)?.[1] ??
    /^\/home\/([^/]+)\//.exec(rel)?.[1] ??
    (rel.startsWith('/root/') ? 'root' : undefined)
  );
}
