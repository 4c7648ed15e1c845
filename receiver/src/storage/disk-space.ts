import { statfs } from 'node:fs/promises';
import { formatBytes } from '../text.ts';

/** How often the free space of the data dir's disk is looked at. */
export const DISK_CHECK_MS = 5_000;

/**
 * The free space on the data dir's disk, against a floor: below it the collector refuses new
 * crashes (503, so clients keep them and retry) before the disk is full, leaving room for the
 * index, the layout of crashes already taken, and anything else on that disk. A submitter can
 * make a small gzip body inflate to the size limit; without the floor, a few minutes of that
 * would fill the disk for everything on it.
 */
export class DiskSpace {
  #free = Infinity;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly dir: string,
    /** Bytes that must stay free (0: no floor). */
    readonly floorBytes: number,
    private readonly statFree: (dir: string) => Promise<number> = async (d) => {
      const s = await statfs(d);
      return s.bavail * s.bsize;
    },
  ) {}

  /** Reads the free space now, then every DISK_CHECK_MS. */
  async start(): Promise<this> {
    if (this.floorBytes <= 0) return this;
    await this.check();
    this.#timer = setInterval(() => void this.check(), DISK_CHECK_MS);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads the free space once; a disk that cannot be read is taken as having room (the writes will say). */
  async check(): Promise<void> {
    try {
      this.#free = await this.statFree(this.dir);
    } catch {
      this.#free = Infinity;
    }
  }

  /** Why new crashes are refused, or null while the disk has room above the floor. */
  problem(): string | null {
    if (this.#free >= this.floorBytes) return null;
    return `the disk holding ${this.dir} has ${formatBytes(Math.max(0, this.#free))} free, under the ${formatBytes(this.floorBytes)} kept free (--min-free-disk): free some space, or lower --min-free-disk`;
  }
}
