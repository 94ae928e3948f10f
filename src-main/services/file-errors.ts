/**
 * Messages about a staged file name it as the user knows it: an upload lives under a random
 * name in the data folder, and a server path means nothing to a browser user.
 */
export async function namingFile<T>(path: string, name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof Error && path !== name && error.message.includes(path)) error.message = error.message.split(path).join(name)
    throw error
  }
}
