package org.libzerobus;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The library's log levels (zb_log_level: ZB_LOG_ERROR 1 .. ZB_LOG_DEBUG 4, each more detailed than
 * the last, new ones appended) beside System.Logger's.
 */
final class LogLevels {
  private static final Level[] BY_LIBRARY_LEVEL = {
    Level.ERROR, Level.ERROR, Level.WARNING, Level.INFO, Level.DEBUG
  };

  private LogLevels() {}

  static Level toJava(int level) {
    return level >= 1 && level < BY_LIBRARY_LEVEL.length ? BY_LIBRARY_LEVEL[level] : Level.TRACE;
  }

  /**
   * The log.level value for `logger`: the name the library gives its most detailed level that the
   * logger would print, or null when it prints none of them.
   */
  static String forLogger(Logger logger) {
    String chosen = null;
    for (int level = 1; ; level++) {
      String name = Native.string(Calls.address(Native.zb_log_level_name, level));
      if (name == null) {
        return chosen;
      }
      if (logger.isLoggable(toJava(level))) {
        chosen = name;
      }
    }
  }
}
