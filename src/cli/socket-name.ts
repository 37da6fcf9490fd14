/** The daemon's socket, in the state dir: HTTP/1.1, mode 0600. */
export const SOCKET_NAME = 'berth.sock';
