/** Warnings said once each: a second report of the same text is dropped, and take() hands each out once. */
export class OnceWarnings {
  private readonly said = new Set<string>();
  private fresh: string[] = [];

  add(warning: string): void {
    if (this.said.has(warning)) return;
    this.said.add(warning);
    this.fresh.push(warning);
  }

  take(): string[] {
    const taken = this.fresh;
    this.fresh = [];
    return taken;
  }
}
