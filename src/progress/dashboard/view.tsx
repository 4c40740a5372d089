/**
 * The ink view of the dashboard: one Text per line from `dashboardLines`, each truncated
 * to the terminal's width so a line never wraps (wrapping would make the frame taller
 * than planned and scroll the terminal). Only the final summary wraps: it is drawn once.
 */
import { Box, Text } from 'ink';
import type { Colour } from '../color.js';
import { dashboardLines, type FrameSize } from './lines.js';
import type { DashboardState } from './state.js';

export interface DashboardProps {
  readonly state: DashboardState;
  readonly now: number;
  readonly size: FrameSize;
  /** False under NO_COLOR (or when not allowed on this terminal). */
  readonly colour: boolean;
}

export function Dashboard({ state, now, size, colour }: DashboardProps) {
  const lines = dashboardLines(state, now, size);
  return (
    <Box flexDirection="column" width={size.columns}>
      {lines.map((line, i) => (
        <Text key={i} wrap={line.wrap ? 'wrap' : 'truncate-end'} {...(colour && line.colour ? style(line.colour) : {})}>
          {line.text}
        </Text>
      ))}
    </Box>
  );
}

function style(colour: Colour): { color?: string; dimColor?: boolean; bold?: boolean } {
  if (colour === 'dim') return { dimColor: true };
  if (colour === 'bold') return { bold: true };
  return { color: colour };
}
