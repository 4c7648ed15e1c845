// Asks the shop's API for stock levels. The endpoint is misconfigured and answers the HTML of
// an error page, so response.json() rejects, and the caller does not handle it.
export async function refreshStock(baseUrl) {
  const response = await fetch(new URL('api/inventory', baseUrl));
  const stock = await response.json();
  return stock.items;
}
