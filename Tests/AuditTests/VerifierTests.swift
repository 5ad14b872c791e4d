import Foundation
import Store
import Testing

@testable import Audit

@Suite("Audit verifier finds tampering")
struct VerifierTests {
    typealias Reason = AuditVerificationFailure.Reason

    /// Each way someone with the file might change it, with where the verifier must point.
    enum Tamper: String, CaseIterable, CustomTestStringConvertible {
        case none
        case editedEntry
        case editedEntryWithItsHash
        case editedEntryWithAllFollowingHashes
        case deletedEntry
        case insertedEntry
        case swappedEntries
        case nonCanonicalEntry
        case deletedTailCoveredByCheckpoint
        case deletedTailWithItsCheckpoints
        case forgedCheckpointNote
        case changedCheckpointColumn
        case deletedFirstEntry

        var testDescription: String { rawValue }

        func apply(to copy: TamperedCopy) throws {
            switch self {
            case .none:
                break
            case .editedEntry:
                try copy.editEntry(150)
            case .editedEntryWithItsHash:
                try copy.editEntry(150)
                try copy.recomputeHashes(from: 150, through: 150)
            case .editedEntryWithAllFollowingHashes:
                try copy.editEntry(150)
                try copy.recomputeHashes(from: 150)
            case .deletedEntry:
                try copy.raw.execute("DELETE FROM audit_log WHERE seq = 150")
            case .insertedEntry:
                try copy.insertForged(at: 150)
            case .swappedEntries:
                try copy.swap(150)
            case .nonCanonicalEntry:
                let bytes = try copy.entryBytes(150)
                try copy.raw.run(
                    "UPDATE audit_log SET entry = ? WHERE seq = 150",
                    [.blob([UInt8(ascii: "{"), UInt8(ascii: " ")] + bytes.dropFirst())])
                try copy.recomputeHashes(from: 150)
            case .deletedTailCoveredByCheckpoint:
                try copy.raw.execute("DELETE FROM audit_log WHERE seq > 250")
            case .deletedTailWithItsCheckpoints:
                try copy.raw.execute("DELETE FROM audit_log WHERE seq > 200")
                try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size > 200")
            case .forgedCheckpointNote:
                try copy.raw.execute(
                    """
                    UPDATE audit_checkpoints
                    SET signed_note = replace(signed_note, '\n200\n', '\n199\n')
                    WHERE size = 200
                    """)
            case .changedCheckpointColumn:
                try copy.raw.execute(
                    "UPDATE audit_checkpoints SET head_hash = zeroblob(32) WHERE size = 200")
            case .deletedFirstEntry:
                try copy.raw.execute("DELETE FROM audit_log WHERE seq = 1")
            }
        }

        /// The expected first finding without an anchor: (seq, reason, suspectFrom), or nil.
        var expected: (seq: Int64, reason: Reason, suspectFrom: Int64)? {
            switch self {
            case .none: nil
            case .editedEntry: (150, .hashMismatch, 150)
            case .editedEntryWithItsHash: (151, .prevHashMismatch, 151)
            case .editedEntryWithAllFollowingHashes: (200, .checkpointMismatch, 101)
            case .deletedEntry: (150, .missingEntry, 150)
            case .insertedEntry: (151, .seqMismatch, 151)
            case .swappedEntries: (150, .seqMismatch, 150)
            case .nonCanonicalEntry: (150, .notCanonical, 150)
            case .deletedTailCoveredByCheckpoint: (251, .truncated, 251)
            case .deletedTailWithItsCheckpoints: nil
            case .forgedCheckpointNote: (200, .checkpointSignature, 101)
            case .changedCheckpointColumn: (200, .checkpointMismatch, 101)
            case .deletedFirstEntry: (1, .missingEntry, 1)
            }
        }
    }

    @Test("each tampering is found at the right position", arguments: Tamper.allCases)
    func tampering(tamper: Tamper) throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        try tamper.apply(to: copy)
        let report = try copy.verify()
        #expect(report.checkpointsChecked == (tamper == .deletedTailWithItsCheckpoints ? 2 : 3))
        guard let expected = tamper.expected else {
            #expect(report.ok, "\(String(describing: report.firstBad))")
            return
        }
        #expect(!report.ok)
        let found = try #require(report.firstBad)
        #expect(found.seq == expected.seq)
        #expect(found.reason == expected.reason)
        #expect(found.suspectFrom == expected.suspectFrom)
    }

    @Test("the untouched log verifies completely")
    func pristine() throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        let report = try copy.verify()
        #expect(report.ok)
        #expect(report.entriesChecked == 300)
        #expect(report.checkpointsChecked == 3)
        #expect(report.headSeq == 300)
        #expect(report.latestCheckpointSize == 300)
        #expect(report.entriesAfterLastCheckpoint == 0)
    }

    /// Cases where only a checkpoint kept outside the database reveals the change.
    enum AnchoredCase: String, CaseIterable, CustomTestStringConvertible {
        case untouched
        case tailAndCheckpointsDeleted
        case rewrittenWithCheckpointsDeleted
        case anchorFromAnotherKey

        var testDescription: String { rawValue }

        func apply(to copy: TamperedCopy) throws {
            switch self {
            case .untouched, .anchorFromAnotherKey:
                break
            case .tailAndCheckpointsDeleted:
                try copy.raw.execute("DELETE FROM audit_log WHERE seq > 200")
                try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size > 200")
            case .rewrittenWithCheckpointsDeleted:
                try copy.editEntry(150)
                try copy.recomputeHashes(from: 150)
                try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size > 100")
            }
        }

        var expected: (seq: Int64, reason: Reason, suspectFrom: Int64)? {
            switch self {
            case .untouched: nil
            case .tailAndCheckpointsDeleted: (201, .anchorNotReached, 201)
            case .rewrittenWithCheckpointsDeleted: (300, .anchorMismatch, 101)
            case .anchorFromAnotherKey: (0, .anchorInvalid, 0)
            }
        }
    }

    @Test(
        "an anchor from outside detects what the database alone cannot",
        arguments: AnchoredCase.allCases)
    func anchored(anchoredCase: AnchoredCase) throws {
        let pristine = try PristineLog.shared.get()
        var anchor = try #require(pristine.notes[300])
        if anchoredCase == .anchorFromAnotherKey {
            let fields = try Checkpoint.parse(body: try #require(SignedNote.split(anchor)?.text))
            anchor = try Checkpoint.sign(
                origin: fields.origin, size: fields.size, headHash: fields.headHash, signedAt: 1,
                keyName: Samples.otherKey.keyName, key: Samples.otherKey.privateKey
            ).signedNote
        }
        let copy = try TamperedCopy(pristine)
        try anchoredCase.apply(to: copy)
        if anchoredCase != .untouched && anchoredCase != .anchorFromAnotherKey {
            #expect(try copy.verify().ok, "without the anchor this change goes unnoticed")
        }
        let report = try copy.verify(anchor: anchor)
        #expect(report.anchorChecked)
        guard let expected = anchoredCase.expected else {
            #expect(report.ok, "\(String(describing: report.firstBad))")
            return
        }
        let found = try #require(report.firstBad)
        #expect(found.seq == expected.seq)
        #expect(found.reason == expected.reason)
        #expect(found.suspectFrom == expected.suspectFrom)
    }

    @Test("checkpoints do not verify under another public key")
    func wrongKey() throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        let report = try copy.verify(key: Samples.otherKey)
        let found = try #require(report.firstBad)
        #expect(found.seq == 100)
        #expect(found.reason == .checkpointSignature)
    }

    @Test("a log with unsigned entries after the last checkpoint says how many")
    func unsignedTail() throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size = 300")
        let report = try copy.verify()
        #expect(report.ok)
        #expect(report.entriesAfterLastCheckpoint == 100)
    }

    /// An anchor file as it may arrive: changed only in its line ends, or broken otherwise.
    enum AnchorForm: String, CaseIterable, CustomTestStringConvertible {
        case extraTrailingNewline
        case noTrailingNewline
        case crlf
        case crlfWithTrailingBlankLines
        case noBlankLineBeforeSignature
        case bareCarriageReturn
        case signedTextNotACheckpoint
        case signedTextEdited

        var testDescription: String { rawValue }

        func apply(to note: String) throws -> String {
            switch self {
            case .extraTrailingNewline: note + "\n"
            case .noTrailingNewline: String(note.dropLast())
            case .crlf: note.replacingOccurrences(of: "\n", with: "\r\n")
            case .crlfWithTrailingBlankLines: note.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n\r\n"
            case .noBlankLineBeforeSignature: note.replacingOccurrences(of: "\n\n", with: "\n")
            case .bareCarriageReturn: note.replacingFirst("\n", with: "\r")
            case .signedTextNotACheckpoint:
                try SignedNote.sign(
                    text: "phigate.test/audit\nnot a size\n", keyName: Samples.signingKey.keyName,
                    privateKey: Samples.signingKey.privateKey)
            case .signedTextEdited: note.replacingFirst("\ntime ", with: "\ntime 9")
            }
        }

        /// The reason the verifier must give, or nil when the anchor must match.
        var expected: (reason: Reason, message: String)? {
            switch self {
            case .extraTrailingNewline, .noTrailingNewline, .crlf, .crlfWithTrailingBlankLines: nil
            case .noBlankLineBeforeSignature, .bareCarriageReturn: (.anchorMalformed, "not a signed note")
            case .signedTextNotACheckpoint: (.anchorMalformed, "not a checkpoint")
            case .signedTextEdited: (.anchorInvalid, "not a checkpoint signed by the audit key")
            }
        }
    }

    @Test(
        "an anchor copied with other line ends still verifies; a broken one is malformed, not forged",
        arguments: AnchorForm.allCases)
    func anchorForms(form: AnchorForm) throws {
        let pristine = try PristineLog.shared.get()
        let anchor = try form.apply(to: try #require(pristine.notes[300]))
        let report = try TamperedCopy(pristine).verify(anchor: anchor)
        #expect(report.anchorChecked)
        guard let expected = form.expected else {
            #expect(report.ok, "\(String(describing: report.firstBad))")
            return
        }
        let found = try #require(report.firstBad)
        #expect(found.reason == expected.reason)
        #expect(found.message.hasSuffix(expected.message), "\(found.message)")
    }
}
