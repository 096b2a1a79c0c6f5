// Placeholder Electron entry; replaced by the station shell.
import { app } from 'electron';
app.whenReady().then(() => app.quit());
