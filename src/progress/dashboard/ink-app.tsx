/**
 * Mounts the dashboard with ink. Kept apart (and loaded on demand) because ink and react
 * take a noticeable time to load, which commands without a dashboard should not pay.
 */
import { render, useStderr } from 'ink';
import { useLayoutEffect, type ReactNode } from 'react';
import { sizedTerminal, type Terminal } from './terminal.js';
import { Dashboard, type DashboardProps } from './view.js';

export interface InkApp {
  update(props: DashboardProps): void;
  /**
   * Prints `text` (whole lines) on stderr above the frame: the frame is erased, the text
   * written and the frame drawn again below it, so the next redraw erases only the frame.
   */
  writeAbove(text: string): void;
  /** Draws the last frame, leaves it on screen and releases the terminal. */
  close(): Promise<void>;
}

export function mountDashboard(stdout: Terminal, stderr: NodeJS.WritableStream, props: DashboardProps): InkApp {
  // ink's own stderr writer knows where the frame is; it is only handed out through a hook.
  let writeToStderr: ((data: string) => void) | null = null;
  const onWriter = (write: (data: string) => void): void => void (writeToStderr = write);
  const tree = (next: DashboardProps) => (
    <StderrBridge onWriter={onWriter}>
      <Dashboard {...next} />
    </StderrBridge>
  );
  const instance = render(tree(props), {
    stdout: sizedTerminal(stdout) as NodeJS.WriteStream,
    stderr: stderr as NodeJS.WriteStream,
    // Ctrl-C is the run's to handle (it cancels remote prompts first); console calls are left alone.
    // Frames are paced by the renderer's own timer; ink's throttle (30 fps) only merges bursts.
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    update: (next) => instance.rerender(tree(next)),
    writeAbove: (text) => (writeToStderr ? writeToStderr(text) : stderr.write(text)),
    close: async () => {
      writeToStderr = null;
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}

function StderrBridge({ onWriter, children }: { onWriter: (write: (data: string) => void) => void; children: ReactNode }) {
  const { write } = useStderr();
  // A layout effect runs within ink's synchronous commit, so the writer is there once render() returns.
  useLayoutEffect(() => onWriter(write), [onWriter, write]);
  return <>{children}</>;
}
