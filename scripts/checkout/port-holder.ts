// Which program listens on a TCP port, for messages like "port 54329 is held by redis-server
// (pid 812)". Read from /proc (Linux): the listening socket's inode in /proc/net/tcp{,6}, then the
// process whose file descriptors include that socket. Best effort: another user's processes are
// hidden unless we are root, and other systems have no /proc — the caller then says less.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface PortHolder {
  pid: number;
  /** The program's name, e.g. "postgres", "docker-proxy". */
  name: string;
}

/** Inodes of the sockets listening on this port (state 0A is LISTEN), any address. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let lines: string[];
    try {
      lines = readFileSync(table, "utf8").split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== "0A") continue;
      if (Number.parseInt(local.split(":")[1] ?? "", 16) === port && fields[9]) {
        inodes.add(fields[9]);
      }
    }
  }
  return inodes;
}

export function portHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        let name = "?";
        try {
          name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        } catch {}
        return { pid: Number(pid), name };
      }
    }
  }
  return undefined;
}

/** "node, pid 4711", or undefined when /proc does not say. */
export const describePortHolder = (port: number) => {
  const holder = portHolder(port);
  return holder ? `${holder.name}, pid ${holder.pid}` : undefined;
};
