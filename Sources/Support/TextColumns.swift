extension String {
    /// Left-aligned in a terminal column of `width`, always followed by at least one space:
    /// longer text widens the column rather than being cut.
    public func column(_ width: Int) -> String {
        self + String(repeating: " ", count: max(1, width - count))
    }
}
