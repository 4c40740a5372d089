/**
 * Mounts the dashboard with ink. Kept apart (and loaded on demand) because ink and react
 * take a noticeable time to load, which commands without a dashboard should not pay.
 */
import { render } from 'ink';
import { Dashboard, type DashboardProps } from './view.js';

export interface InkApp {
  update(props: DashboardProps): void;
  /** Draws the last frame, leaves it on screen and releases the terminal. */
  close(): Promise<void>;
}

export function mountDashboard(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, props: DashboardProps): InkApp {
  const instance = render(<Dashboard {...props} />, {
    stdout: stdout as NodeJS.WriteStream,
    stderr: stderr as NodeJS.WriteStream,
    // Ctrl-C is the run's to handle (it cancels remote prompts first); console calls are left alone.
    // Frames are paced by the renderer's own timer; ink's throttle (30 fps) only merges bursts.
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    update: (next) => instance.rerender(<Dashboard {...next} />),
    close: async () => {
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
