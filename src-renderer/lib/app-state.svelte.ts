// UI state shared between screens: which screen is open and which dataset is current.
export type Screen = 'datasets' | 'review' | 'models' | 'train' | 'chat'

export const appState = $state<{ screen: Screen; datasetId: number | null }>({ screen: 'datasets', datasetId: null })

export function openScreen(screen: Screen, datasetId?: number): void {
  appState.screen = screen
  if (datasetId !== undefined) appState.datasetId = datasetId
}
