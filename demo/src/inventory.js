// Asks the shop's API for stock levels. The endpoint is misconfigured and answers the HTML of
// an error page, so parsing it as JSON throws, the promise rejects, and the caller does not
// handle it.
export async function refreshStock(baseUrl) {
  const response = await fetch(new URL('api/inventory', baseUrl));
  const text = await response.text();
  const stock = JSON.parse(text);
  return stock.items;
}
