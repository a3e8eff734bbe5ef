"""On-chain facts in support text: TxIDs, addresses (with their checksums), networks,
coins, amounts, order ids, memos and UIDs, and the mismatches between them."""
