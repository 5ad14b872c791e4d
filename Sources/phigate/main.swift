import App
import Foundation
import Support

/// phigate's command line: parse the command, run it, exit with a status that says how it went.
///
/// Exit statuses follow sysexits: 0 success, 64 usage, 78 configuration, 1 anything else.
// Everything phigate creates — databases, keys, exports — is for its owner only.
umask(0o077)
let arguments = Array(CommandLine.arguments.dropFirst())
let status = CommandLineInterface.run(arguments, environment: ProcessInfo.processInfo.environment)
exit(status)
