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
        case rewrittenWithLaterCheckpointsDeleted
        case allCheckpointsDeleted
        case rewrittenAndSignedAgainByTheWriter
        case deletedTailWithItsCheckpointsLeavingTheIndex
        case indexBlockPastTheHead
        case indexTermsOfAPatientDeleted
        case indexTimeRangeNarrowed
        case indexFirstBlockDeleted
        case indexBlockOverlappingAnother
        case indexTermsNamingNoBlock

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
                try copy.truncate(after: 200)
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
            case .rewrittenWithLaterCheckpointsDeleted:
                try copy.editEntry(150)
                try copy.recomputeHashes(from: 150)
                try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size > 100")
            case .allCheckpointsDeleted:
                try copy.raw.execute("DELETE FROM audit_checkpoints")
            case .rewrittenAndSignedAgainByTheWriter:
                try copy.editEntry(150)
                try copy.recomputeHashes(from: 150)
                try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size > 100")
                try copy.signCheckpoint(at: 300)
            case .deletedTailWithItsCheckpointsLeavingTheIndex:
                try copy.raw.execute("DELETE FROM audit_log WHERE seq > 200")
                try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size > 200")
            case .indexBlockPastTheHead:
                try copy.raw.execute("INSERT INTO audit_blocks VALUES (301, 1000000000, 0, 0)")
            case .indexTermsOfAPatientDeleted:
                try copy.raw.execute("DELETE FROM audit_terms WHERE term = 'p:p2'")
            case .indexTimeRangeNarrowed:
                try copy.raw.execute("UPDATE audit_blocks SET max_time = max_time - 1 WHERE first_seq = 257")
            case .indexFirstBlockDeleted:
                try copy.raw.execute("DELETE FROM audit_terms WHERE block = 1")
                try copy.raw.execute("DELETE FROM audit_blocks WHERE first_seq = 1")
            case .indexBlockOverlappingAnother:
                try copy.raw.execute("INSERT INTO audit_blocks VALUES (100, 120, 0, 0)")
            case .indexTermsNamingNoBlock:
                try copy.raw.execute("INSERT INTO audit_terms VALUES ('a:alice', 5)")
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
            // Checkpoints come every 100 entries: 200 entries after the one at 100 cannot be.
            case .rewrittenWithLaterCheckpointsDeleted: (200, .unsignedTail, 101)
            case .allCheckpointsDeleted: (100, .unsignedTail, 1)
            case .rewrittenAndSignedAgainByTheWriter: (200, .checkpointGap, 101)
            // The entries verify; the index still describes the deleted ones.
            case .deletedTailWithItsCheckpointsLeavingTheIndex: (1, .indexMismatch, 1)
            case .indexBlockPastTheHead: (301, .indexMismatch, 301)
            case .indexTermsOfAPatientDeleted: (1, .indexMismatch, 1)
            case .indexTimeRangeNarrowed: (257, .indexMismatch, 257)
            case .indexFirstBlockDeleted: (257, .indexMismatch, 257)
            // Either of two overlapping blocks may be the forged one: the earlier is named.
            case .indexBlockOverlappingAnother: (1, .indexMismatch, 1)
            case .indexTermsNamingNoBlock: (5, .indexMismatch, 5)
            }
        }

        /// The kind of index fault expected, for the index cases.
        var indexFault: AuditIndexFault.Kind? {
            switch self {
            case .deletedTailWithItsCheckpointsLeavingTheIndex, .indexBlockPastTheHead: .pastHead
            case .indexTermsOfAPatientDeleted: .terms
            case .indexTimeRangeNarrowed: .times
            case .indexFirstBlockDeleted: .gap
            case .indexBlockOverlappingAnother: .overlap
            case .indexTermsNamingNoBlock: .orphanTerms
            default: nil
            }
        }

        var checkpointsLeft: Int {
            switch self {
            case .deletedTailWithItsCheckpoints, .deletedTailWithItsCheckpointsLeavingTheIndex: 2
            case .rewrittenWithLaterCheckpointsDeleted: 1
            case .allCheckpointsDeleted: 0
            case .rewrittenAndSignedAgainByTheWriter: 2
            default: 3
            }
        }
    }

    @Test("each tampering is found at the right position", arguments: Tamper.allCases)
    func tampering(tamper: Tamper) throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        try tamper.apply(to: copy)
        let report = try copy.verify()
        #expect(report.checkpointsChecked == tamper.checkpointsLeft)
        if let kind = tamper.indexFault {
            let message = report.indexFailure?.message ?? "none"
            #expect(message.contains("(\(kind))"), "\(message)")
        }
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

    @Test("the pristine log's index is checked block by block and matches")
    func pristineIndex() throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        #expect(try copy.blocks().first.map { [$0.0, $0.1] } == [1, 256])
        let report = try copy.verify()
        #expect(report.indexChecked)
        #expect(report.indexBlocksChecked == (try copy.blocks().count))
        #expect(report.indexFailure == nil)
    }

    @Test("an edited entry is reported as such, though the index no longer matches it either")
    func evidenceOutranksTheIndex() throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        try copy.editEntry(150)
        let report = try copy.verify()
        #expect(report.firstBad?.reason == .hashMismatch)
        #expect(report.indexFailure?.reason == .indexMismatch)
        #expect(report.indexFailure?.seq == 1)
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

    @Test(
        "a check told to stop reports nothing found and is not ok; one never told finishes",
        arguments: [(true, nil), (false, Reason.hashMismatch)] as [(Bool, Reason?)])
    func interrupted(stop: Bool, finding: Reason?) throws {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        try copy.editEntry(2)
        let database = try Database(path: copy.path, readOnly: true)
        let report = AuditVerifier.verify(
            database: database, publicKey: Samples.signingKey.publicKey, checkpointEvery: 100,
            shouldStop: { stop })
        #expect(report.interrupted == stop)
        #expect(!report.ok)
        #expect(report.firstBad?.reason == finding, "an unfinished check names no entry, not even the edited one")
        #expect(report.entriesChecked == (stop ? 0 : 300))
    }

    /// Cases where only a checkpoint kept outside the database reveals the change.
    enum AnchoredCase: String, CaseIterable, CustomTestStringConvertible {
        case untouched
        case tailAndCheckpointsDeleted
        case rewrittenAndTruncatedWithCheckpointsDeleted
        case anchorFromAnotherKey

        var testDescription: String { rawValue }

        func apply(to copy: TamperedCopy) throws {
            switch self {
            case .untouched, .anchorFromAnotherKey:
                break
            case .tailAndCheckpointsDeleted:
                try copy.truncate(after: 200)
            case .rewrittenAndTruncatedWithCheckpointsDeleted:
                // Fewer than 100 entries after the checkpoint at 100 look like a log whose
                // writer stopped before signing the next one.
                try copy.editEntry(150)
                try copy.recomputeHashes(from: 150)
                try copy.truncate(after: 199)
            }
        }

        var expected: (seq: Int64, reason: Reason, suspectFrom: Int64)? {
            switch self {
            case .untouched: nil
            case .tailAndCheckpointsDeleted: (201, .anchorNotReached, 201)
            case .rewrittenAndTruncatedWithCheckpointsDeleted: (200, .anchorNotReached, 200)
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

    /// (entries kept, checkpoint at 300 kept, checkpointEvery told, expected finding)
    static let tails: [(Int64, Bool, Int64, (seq: Int64, reason: Reason)?)] = [
        (300, true, 100, nil),
        // 99 entries after a checkpoint: a writer stopped (or crashed) before the next one.
        (299, false, 100, nil),
        // 100: the writer would have signed one at 300 in the transaction that added it.
        (300, false, 100, (300, .unsignedTail)),
        (300, false, 101, nil),
        // Told a smaller schedule than the log was written with, its gaps are findings too.
        (300, true, 99, (99, .checkpointGap)),
    ]

    @Test("unsigned entries after the newest checkpoint are counted, and too many fail", arguments: tails)
    func unsignedTail(kept: Int64, lastCheckpointKept: Bool, every: Int64, expected: (seq: Int64, reason: Reason)?)
        throws
    {
        let copy = try TamperedCopy(try PristineLog.shared.get())
        if kept < 300 {
            try copy.truncate(after: kept)
        }
        if !lastCheckpointKept {
            try copy.raw.execute("DELETE FROM audit_checkpoints WHERE size = 300")
        }
        let report = try copy.verify(checkpointEvery: every)
        #expect(report.entriesAfterLastCheckpoint == (lastCheckpointKept ? 0 : kept - 200))
        #expect(report.firstBad.map { [$0.seq] } == expected.map { [$0.seq] })
        #expect(report.firstBad?.reason == expected?.reason)
    }

    /// (checkpoint sizes, head, checkpointEvery, expected finding)
    static let schedules: [([Int64], Int64, Int64, (seq: Int64, reason: Reason, suspectFrom: Int64)?)] = [
        ([], 0, 1000, nil),
        ([], 999, 1000, nil),
        ([], 1000, 1000, (1000, .unsignedTail, 1)),
        ([1000, 2000, 2500], 3499, 1000, nil),
        ([1000, 2000, 2500], 3500, 1000, (3500, .unsignedTail, 2501)),
        ([1000, 3770], 3770, 1000, (2000, .checkpointGap, 1001)),
        ([1001], 1001, 1000, (1000, .checkpointGap, 1)),
        ([1, 2, 3], 4, 1, (4, .unsignedTail, 4)),
        ([1, 2, 3], 3, 1, nil),
    ]

    @Test("checkpoints further apart than the writer signs them are a finding", arguments: schedules)
    func schedule(
        sizes: [Int64], head: Int64, every: Int64, expected: (seq: Int64, reason: Reason, suspectFrom: Int64)?
    ) {
        let found = AuditVerifier.checkSchedule(sizes, head: head, checkpointEvery: every).first
        #expect(found?.seq == expected?.seq)
        #expect(found?.reason == expected?.reason)
        #expect(found?.suspectFrom == expected?.suspectFrom)
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
