//! Parsed GraphQL documents, kept by query text.
//!
//! Staff tools send the same few query texts over and over with different
//! variables; parsing one is most of the cost of a single-ticket read (the
//! load benchmark's profile showed the parser at a quarter of the server's
//! time). The cache holds up to [`DocumentCache::CAPACITY`] documents of at
//! most [`DocumentCache::MAX_QUERY_BYTES`]; when it is full it starts over,
//! so a caller sending ever-new texts costs one parse each, as without it.
//! Validation, depth and complexity limits still run on every request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition, Selection};
use async_graphql::Positioned;

/// Query text to parsed document.
#[derive(Default)]
pub struct DocumentCache {
    documents: RwLock<HashMap<String, Arc<ExecutableDocument>>>,
}

impl DocumentCache {
    /// Documents kept at most.
    pub const CAPACITY: usize = 1024;
    /// Longer query texts are parsed every time and not kept.
    pub const MAX_QUERY_BYTES: usize = 16 * 1024;

    /// The parsed document of `query`, or `None` if it does not parse
    /// (the executor then reports the syntax error itself).
    pub fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(document) = self.documents.read().ok().and_then(|d| d.get(query).cloned()) {
            return Some(document);
        }
        let document = Arc::new(async_graphql::parser::parse_query(query).ok()?);
        if query.len() <= Self::MAX_QUERY_BYTES {
            if let Ok(mut documents) = self.documents.write() {
                if documents.len() >= Self::CAPACITY {
                    documents.clear();
                }
                documents.insert(query.to_string(), document.clone());
            }
        }
        Some(document)
    }

    /// Documents held now.
    pub fn len(&self) -> usize {
        self.documents.read().map(|d| d.len()).unwrap_or(0)
    }

    /// Whether no document is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The operation a request runs: the only one, the named one, or the
/// first.
pub fn operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name),
            None => ops.values().next(),
        },
    }
}

/// The first root field the operation asks for (`receiveTicket`): the
/// metric label of a request. `None` if there is no such operation.
pub fn root_field(document: &ExecutableDocument, operation_name: Option<&str>) -> Option<String> {
    operation(document, operation_name)?
        .node
        .selection_set
        .node
        .items
        .iter()
        .find_map(|item| match &item.node {
            Selection::Field(f) => Some(f.node.name.node.to_string()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_labels_the_root_field() {
        let cache = DocumentCache::default();
        let query = "query($id: String!) { ticket(id: $id) { id } }";
        let first = cache.get(query).unwrap_or_else(|| panic!("valid query"));
        let second = cache.get(query).unwrap_or_else(|| panic!("valid query"));
        assert!(Arc::ptr_eq(&first, &second), "the second look is served from the cache");
        assert_eq!(root_field(&first, None).as_deref(), Some("ticket"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn invalid_and_oversized_texts_are_not_kept() {
        let cache = DocumentCache::default();
        assert!(cache.get("{ ticket(id: ").is_none());
        let long = format!(
            "{{ ticket(id: \"{}\") {{ id }} }}",
            "x".repeat(DocumentCache::MAX_QUERY_BYTES)
        );
        assert!(cache.get(&long).is_some());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = DocumentCache::default();
        for i in 0..DocumentCache::CAPACITY {
            assert!(cache.get(&format!("{{ ticket(id: \"{i}\") {{ id }} }}")).is_some());
        }
        assert_eq!(cache.len(), DocumentCache::CAPACITY);
        assert!(cache
            .get("{ workdays(from: \"2026-01-01\", to: \"2026-01-31\") }")
            .is_some());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_named_operation_is_labelled() {
        let cache = DocumentCache::default();
        let doc = cache
            .get("query A { ticket(id: \"1\") { id } } query B { tickets { totalCount } }")
            .unwrap_or_else(|| panic!("valid query"));
        assert_eq!(root_field(&doc, Some("B")).as_deref(), Some("tickets"));
        assert_eq!(root_field(&doc, Some("C")), None);
    }
}
