// A list the screen reloads whenever something changes: only the latest reload's outcome is
// applied (a slow, older response never overwrites a newer one), and the selection is kept when
// the selected item is still there, else it moves to the first item.
export interface ListHandlers<T> {
  loaded(list: T[]): void
  failed(error: unknown): void
  settled(): void
}

export function latestList<T>(load: () => Promise<T[]>, on: ListHandlers<T>): () => Promise<void> {
  let seq = 0
  return async () => {
    const mine = ++seq
    try {
      const list = await load()
      if (mine === seq) on.loaded(list)
    } catch (e) {
      if (mine === seq) on.failed(e)
    } finally {
      if (mine === seq) on.settled()
    }
  }
}

/** The id to select after a reload: the same one if it is still listed, else the first. */
export function keptSelection(list: Array<{ id: number }>, selected: number | null): number | null {
  return selected !== null && list.some((item) => item.id === selected) ? selected : (list[0]?.id ?? null)
}
